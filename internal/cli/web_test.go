package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/internal/cli"
)

func TestWebServesAndStops(t *testing.T) {
	env := map[string]string{
		"GATEHOUSE_WEB_API_URL":     "http://127.0.0.1:18080", // from the environment…
		"GATEHOUSE_WEB_COOKIE_NAME": "gh_session",
	}
	w := start(t, env, "web listening", "web", "--addr", "127.0.0.1:0", "--log-format", "json",
		"--cookie-name", "flag_session") // …and a flag beats the environment
	base := "http://" + w.addr

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/login" {
		t.Errorf("GET / without cookie = %d %q, want 302 to /login", res.StatusCode, res.Header.Get("Location"))
	}

	req, _ := http.NewRequest("GET", base+"/", nil)
	req.AddCookie(&http.Cookie{Name: "flag_session", Value: "x"})
	res, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET / with the --cookie-name cookie = %d, want 200", res.StatusCode)
	}

	res, err = http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	// --public-url defaults to http://<addr> with the port actually bound.
	wantRD := "http://127.0.0.1:18080/oauth2/start?rd=" + url.QueryEscape(base+"/")
	if !strings.Contains(string(body), wantRD) {
		t.Errorf("GET /login lacks the sign-in link %s:\n%s", wantRD, body)
	}

	if code := w.stop(); code != 0 {
		t.Errorf("exit code after stop = %d, want 0; log:\n%s", code, w.stderr)
	}
	if !strings.Contains(w.stderr.String(), `"msg":"web stopped"`) {
		t.Errorf("no \"web stopped\" line in the log:\n%s", w.stderr)
	}
}

func TestWebInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"bad URLs and cookie name",
			[]string{"--api-url", "localhost:8080", "--public-url", "http://localhost:3000/app", "--cookie-name", "a b"}, nil,
			[]string{"--api-url", "--public-url", "--cookie-name"}},
		{"bad address and timeout", []string{"--addr", "nohost", "--shutdown-timeout", "0s"}, nil,
			[]string{"--addr", "--shutdown-timeout"}},
		{"bad URL from the environment", nil, map[string]string{"GATEHOUSE_WEB_API_URL": "ftp://gw"},
			[]string{"--api-url", `"ftp://gw"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			getenv := func(k string) string { return tt.env[k] }
			code := cli.Main(context.Background(), append([]string{"web"}, tt.args...), getenv, strings.NewReader(""), io.Discard, &stderr)
			if code != 2 {
				t.Fatalf("gatehouse web %v = exit %d, want 2; stderr:\n%s", tt.args, code, &stderr)
			}
			for _, s := range tt.want {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, &stderr)
				}
			}
		})
	}
}

func TestWebHelp(t *testing.T) {
	var stdout bytes.Buffer
	code := cli.Main(context.Background(), []string{"help", "web"}, func(string) string { return "" },
		strings.NewReader(""), &stdout, io.Discard)
	if code != 0 {
		t.Fatalf("gatehouse help web = %d", code)
	}
	for _, s := range []string{"--api-url", "GATEHOUSE_WEB_API_URL", "--public-url", "--cookie-name", "default: localhost:3000", "--cors-allowed-origin"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("help lacks %q:\n%s", s, &stdout)
		}
	}
}
