package cli_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gatehouse/internal/cli"
	"gatehouse/internal/e2e"
)

var upReady = []string{"api listening", "idp listening", "gateway listening", "web listening"}

func startUp(t *testing.T, dir string) (*e2e.Process, map[string]string) {
	t.Helper()
	p, addrs := e2e.Start(t, nil, upReady, "up", "--data-dir", dir, "--log-format", "json",
		"--web-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0", "--idp-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0")
	waitOK(t, "http://"+addrs["gateway listening"]+"/ready")
	return p, addrs
}

func waitOK(t *testing.T, u string) {
	t.Helper()
	for range 1000 {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
	}
	t.Fatalf("%s never answered 200", u)
}

// signInAsAlice walks the code flow as a browser would: the gateway sends
// it to the provider's form, the form is posted, the redirects come back
// through the callback, which sets the session cookie in jar.
func signInAsAlice(t *testing.T, jar http.CookieJar, gatewayURL string) {
	t.Helper()
	c := &http.Client{Jar: jar}
	res, err := c.Get(gatewayURL + "/oauth2/start")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no login form at %s:\n%s", res.Request.URL, body)
	}
	idpOrigin := res.Request.URL.Scheme + "://" + res.Request.URL.Host
	form := url.Values{"authRequestID": {string(m[1])}, "email": {"alice@example.com"}, "password": {"password"}}
	req, _ := http.NewRequest("POST", idpOrigin+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", idpOrigin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !strings.HasPrefix(res.Request.URL.String(), gatewayURL) {
		t.Fatalf("sign-in ended at %s (%d), want the gateway", res.Request.URL, res.StatusCode)
	}
}

// TestUpRestartKeepsSessionsAndTodos: secrets, signing keys and todos live
// in --data-dir, so after a restart the same browser is still signed in
// and sees its todos.
func TestUpRestartKeepsSessionsAndTodos(t *testing.T) {
	dir := t.TempDir()
	p, addrs := startUp(t, dir)
	gw := "http://" + addrs["gateway listening"]
	jar, _ := cookiejar.New(nil)
	signInAsAlice(t, jar, gw)
	c := &http.Client{Jar: jar}
	res, err := c.Post(gw+"/", "application/json", strings.NewReader(`{"title":"survive up's restart"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("POST through the gateway = %d", res.StatusCode)
	}
	if code := p.Stop(); code != 0 {
		t.Fatalf("up exit code = %d, want 0", code)
	}
	info, err := os.Stat(filepath.Join(dir, "secrets.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("secrets.json: %v, mode %v; want 0600", err, info.Mode().Perm())
	}

	_, addrs = startUp(t, dir)
	gw2 := "http://" + addrs["gateway listening"]
	// The cookie is for host 127.0.0.1, whatever the port.
	req, _ := http.NewRequest("GET", gw2+"/", nil)
	req.Header.Set("Accept", "application/json")
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "survive up's restart") {
		t.Errorf("after restart GET / = %d %s, want the todo with the old session", res.StatusCode, body)
	}
}

func TestUpRefusesBadSettings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"api off loopback", []string{"--api-addr", "0.0.0.0:8000"}, []string{"--api-addr", "loopback"}},
		{"demo users on the network", []string{"--idp-addr", "0.0.0.0:5556"}, []string{"--idp-addr"}},
		{"external provider without client", []string{"--provider", "google"}, []string{"--client-id"}},
		{"oidc without issuer", []string{"--provider", "oidc", "--client-id", "a", "--client-secret", "b"}, []string{"--oidc-issuer-url"}},
		{"bad address", []string{"--web-addr", "nope"}, []string{"--web-addr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append([]string{"up", "--data-dir", t.TempDir()}, tt.args...)
			code := cli.Main(t.Context(), args, func(string) string { return "" }, nil, io.Discard, &out)
			if code != 2 {
				t.Errorf("exit code = %d, want 2; output:\n%s", code, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
