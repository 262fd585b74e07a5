package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// logConfig is shared by every service.
type logConfig struct {
	level  string
	format string
}

func (c *logConfig) register(o *options) {
	o.fs.StringVar(&c.level, "log-level", "info", "log `level`: debug, info, warn or error")
	o.fs.StringVar(&c.format, "log-format", "text", "log `format`: text or json")
}

// logger builds the one *slog.Logger of the process.
func (c *logConfig) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.level)
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	switch strings.ToLower(c.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.format)
}

// sensitiveKeys are log attribute names whose values are never written.
var sensitiveKeys = map[string]bool{
	"token": true, "id_token": true, "access_token": true, "refresh_token": true,
	"code": true, "code_verifier": true, "state": true, "nonce": true,
	"cookie": true, "set-cookie": true, "authorization": true,
	"secret": true, "client_secret": true, "cookie_secret": true, "password": true,
}

// redact is the logger's last line of defence: whatever a package logs by
// mistake, values under a sensitive name, and strings shaped like a JWT,
// are written as [redacted]. Packages still must not log secrets; this
// makes a slip harmless.
func redact(_ []string, a slog.Attr) slog.Attr {
	if sensitiveKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, "[redacted]")
	}
	if a.Value.Kind() == slog.KindString && looksLikeJWT(a.Value.String()) {
		return slog.String(a.Key, "[redacted]")
	}
	return a
}

// looksLikeJWT spots a compact JWS/JWE anywhere in s: "eyJ" followed by
// base64url and at least two dots.
func looksLikeJWT(s string) bool {
	i := strings.Index(s, "eyJ")
	if i < 0 {
		return false
	}
	dots := 0
	for _, c := range s[i:] {
		switch {
		case c == '.':
			dots++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '=':
		default:
			return dots >= 2
		}
	}
	return dots >= 2
}
