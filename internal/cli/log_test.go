package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestLogRedaction(t *testing.T) {
	var buf bytes.Buffer
	c := logConfig{level: "debug", format: "json"}
	logger, err := c.logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	logger.Info("oops", "refresh_token", "1//secret-refresh", "Authorization", "Bearer abc", "password", "hunter2",
		"detail", "exchange failed: "+jwt, "user", "alice@example.com")
	logger.WithGroup("req").Info("nested", "cookie", "_oauth2_proxy=sealed")
	logger.Error("failed", "error", fmt.Errorf("verify %s: expired", jwt))
	out := buf.String()
	for _, leak := range []string{"1//secret-refresh", "Bearer abc", "hunter2", jwt, "sealed"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "alice@example.com") || !strings.Contains(out, "exchange failed: [redacted]") || !strings.Contains(out, "verify [redacted]: expired") {
		t.Errorf("log lost an ordinary value:\n%s", out)
	}
}

func TestLooksLikeJWT(t *testing.T) {
	for s, want := range map[string]bool{
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig": true,
		"token eyJa.eyJb.c rest":                   true,
		"eyJonly.one":                              false,
		"plain text. with dots.":                   false,
		"":                                         false,
	} {
		if got := looksLikeJWT(s); got != want {
			t.Errorf("looksLikeJWT(%q) = %v, want %v", s, got, want)
		}
	}
}
