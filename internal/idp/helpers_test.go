package idp_test

import (
	"encoding/base64"
	"gatehouse/internal/testenv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/idp"
)

// clock is a settable clock that starts at the real time (the token
// library stamps iat and exp from the real clock).
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The test clients: a confidential web app (the gateway) and a public
// single-page app.
const (
	webID       = "web"
	webSecret   = "web-secret"
	webCallback = "http://localhost:8080/oauth2/callback"
	webLogout   = "http://localhost:3000/login"
	spaID       = "spa"
	spaCallback = "http://localhost:3000/callback"
)

func testClients() []idp.Client {
	return []idp.Client{
		{ID: webID, Secret: webSecret, RedirectURIs: []string{webCallback}, PostLogoutRedirectURIs: []string{webLogout}},
		{ID: spaID, RedirectURIs: []string{spaCallback}},
	}
}

// env is a provider served over HTTP on a loopback port.
type env struct {
	p     *idp.Provider
	url   string // the issuer
	logs  *testenv.LogBuffer
	clock *clock
}

// newEnv starts a provider with the demo users and the test clients;
// mutate may change the configuration (a DataDir makes it use Open).
func newEnv(t *testing.T, mutate func(*idp.Config)) *env {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	e := &env{url: "http://" + srv.Listener.Addr().String(), logs: &testenv.LogBuffer{}, clock: newClock()}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := idp.Config{Issuer: e.url, Users: idp.DemoUsers(), Clients: testClients(), Logger: logger, Now: e.clock.Now}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := idp.Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("idp.Open: %v", err)
	}
	e.p = p
	srv.Config.Handler = httpserver.Wrap(p.Handler(), logger)
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

// noRedirect is a client that stops at every redirect, as a test must to
// see each hop.
var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return do(t, req)
}

// postForm posts a form as a browser on the provider's own page would.
func postForm(t *testing.T, u string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return do(t, req)
}

var hiddenID = regexp.MustCompile(`name="authRequestID" value="([^"]+)"`)

// loginPage follows an authorization URL to the login page and returns
// the page's URL and the auth request id from its form.
func (e *env) loginPage(t *testing.T, authURL string) (string, string) {
	t.Helper()
	res, body := get(t, authURL)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("GET %s = %d, want 302 to the login page:\n%s", authURL, res.StatusCode, body)
	}
	loginURL := e.abs(t, res.Header.Get("Location"))
	res, body = get(t, loginURL)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET login page = %d:\n%s", res.StatusCode, body)
	}
	m := hiddenID.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("login page has no authRequestID field:\n%s", body)
	}
	return loginURL, m[1]
}

func (e *env) abs(t *testing.T, ref string) string {
	t.Helper()
	base, _ := url.Parse(e.url + "/")
	u, err := base.Parse(ref)
	if err != nil {
		t.Fatalf("bad Location %q: %v", ref, err)
	}
	return u.String()
}

// login posts the login form and returns the answer.
func (e *env) login(t *testing.T, id, email, password string, hdr ...string) (*http.Response, string) {
	t.Helper()
	return postForm(t, e.url+"/login", url.Values{"authRequestID": {id}, "email": {email}, "password": {password}}, hdr...)
}

// signIn runs the browser's part of a sign-in: authorization URL, login
// form, callback. It returns the redirect to the client's redirect URI.
func (e *env) signIn(t *testing.T, authURL, email, password string) *url.URL {
	t.Helper()
	_, id := e.loginPage(t, authURL)
	res, body := e.login(t, id, email, password)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login POST = %d, want 303:\n%s", res.StatusCode, body)
	}
	res, body = get(t, e.abs(t, res.Header.Get("Location")))
	if res.StatusCode != http.StatusFound {
		t.Fatalf("callback = %d, want 302 to the client:\n%s", res.StatusCode, body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func cutDot(s string) (string, string, bool) { return strings.Cut(s, ".") }

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
