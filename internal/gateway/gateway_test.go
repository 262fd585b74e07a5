package gateway_test

import (
	"context"
	"encoding/json"
	"gatehouse/internal/testenv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/internal/gateway"
	"gatehouse/internal/httpserver"
	"gatehouse/internal/session"
)

// env is a gateway in front of an echo upstream, signing in against
// mockoidc, a third-party OpenID provider.
type env struct {
	gw       *httptest.Server
	upstream *httptest.Server
	idp      *mockoidc.MockOIDC
	logs     *testenv.LogBuffer
	cfg      gateway.Config

	refreshes   atomic.Int32 // refresh-token grants the provider saw
	failRefresh atomic.Bool  // make the provider refuse refresh tokens
}

const testSecret = "0123456789abcdef0123456789abcdef"

func newEnv(t *testing.T, mutate func(*gateway.Config)) *env {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{}
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.TokenEndpoint {
				r.ParseForm()
				if r.PostForm.Get("grant_type") == "refresh_token" {
					e.refreshes.Add(1)
					if e.failRefresh.Load() {
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusBadRequest)
						io.WriteString(w, `{"error":"invalid_grant"}`)
						return
					}
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	// The upstream echoes what it received, like the Todo API's /headers.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := map[string]string{"host": r.Host, "path": r.URL.Path, "method": r.Method}
		for k, v := range r.Header {
			h[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*") // must not leak through
		json.NewEncoder(w).Encode(h)
	}))
	t.Cleanup(upstream.Close)
	codec, err := session.NewCodec([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mc := m.Config()
	cfg := gateway.Config{
		IssuerURL:              m.Issuer(),
		ClientID:               mc.ClientID,
		ClientSecret:           mc.ClientSecret,
		EmailDomains:           []string{"*"},
		Scopes:                 []string{"openid", "email", "profile", "groups"},
		Codec:                  codec,
		Cookie:                 session.CookieConfig{Insecure: true},
		Upstreams:              []string{upstream.URL},
		SetXAuthRequest:        true,
		SetAuthorizationHeader: true,
		SkipProviderButton:     true,
		WhitelistDomains:       []string{".localhost:3000"},
		CORSAllowedOrigins:     []string{"http://localhost:3000"},
		Logger:                 logger,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := gateway.New(cfg)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; !g.Ready(); i++ {
		if i > 500 {
			t.Fatal("provider never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	gw := httptest.NewServer(httpserver.Wrap(g, logger))
	t.Cleanup(gw.Close)
	e.gw, e.upstream, e.idp, e.logs, e.cfg = gw, upstream, m, logs, cfg
	return e
}

// browser is a client with a cookie jar that follows redirects and says
// it wants HTML, as a browser navigating does.
func (e *env) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: navigating{http.DefaultTransport}}
}

type navigating struct{ rt http.RoundTripper }

func (n navigating) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	if r.Header.Get("Sec-Fetch-Mode") == "" {
		r.Header.Set("Sec-Fetch-Mode", "navigate")
	}
	return n.rt.RoundTrip(r)
}

func get(t *testing.T, c *http.Client, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// signIn opens /headers as a browser and follows the login to the end.
func (e *env) signIn(t *testing.T) *http.Client {
	t.Helper()
	c := e.browser(t)
	res, body := get(t, c, e.gw.URL+"/headers")
	if res.StatusCode != 200 || res.Request.URL.Path != "/headers" {
		t.Fatalf("login ended at %s with %d: %s", res.Request.URL, res.StatusCode, body)
	}
	return c
}

func (e *env) sessionCookie(c *http.Client) *http.Cookie {
	u, _ := url.Parse(e.gw.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == session.DefaultCookieName {
			return ck
		}
	}
	return nil
}

func TestLoginThroughProxy(t *testing.T) {
	e := newEnv(t, nil)
	c := e.browser(t)
	res, body := get(t, c, e.gw.URL+"/headers?x=1")
	if res.StatusCode != 200 {
		t.Fatalf("GET /headers after login = %d %s", res.StatusCode, body)
	}
	if got := res.Request.URL.RequestURI(); got != "/headers?x=1" {
		t.Errorf("came back to %q, want /headers?x=1", got)
	}
	var h map[string]string
	json.Unmarshal(body, &h)
	gwHost := strings.TrimPrefix(e.gw.URL, "http://")
	checks := map[string]string{
		"host":                           gwHost,
		"x-forwarded-host":               gwHost,
		"x-forwarded-proto":              "http",
		"x-forwarded-user":               "1234567890",
		"x-forwarded-email":              "jane.doe@example.com",
		"x-forwarded-preferred-username": "jane.doe",
		"x-forwarded-groups":             "engineering,design",
		"x-real-ip":                      "127.0.0.1",
	}
	for k, want := range checks {
		if h[k] != want {
			t.Errorf("upstream saw %s = %q, want %q", k, h[k], want)
		}
	}
	if strings.Contains(h["cookie"], session.DefaultCookieName) {
		t.Errorf("upstream saw the session cookie: %q", h["cookie"])
	}
	if h["x-request-id"] == "" {
		t.Errorf("upstream got no X-Request-Id")
	}
	if res.Header.Get("Access-Control-Allow-Origin") == "*" {
		t.Errorf("upstream's CORS header leaked through")
	}
	ck := e.sessionCookie(c)
	if ck == nil {
		t.Fatal("no session cookie in the jar")
	}
}

func TestSpoofedHeadersRemoved(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	req, _ := http.NewRequest("GET", e.gw.URL+"/headers", nil)
	spoof := map[string]string{
		"X-Forwarded-User":               "admin",
		"X-Forwarded-Email":              "admin@evil.example",
		"X-Forwarded-Groups":             "admins",
		"X-Forwarded-Preferred-Username": "admin",
		"X-Auth-Request-User":            "admin",
		"X-Auth-Request-Email":           "admin@evil.example",
		"X_Auth_Request_User":            "admin",
		"X_Forwarded_Email":              "admin@evil.example",
		"x-forwarded-access-token":       "forged",
		"Gap-Auth":                       "admin",
		"X-Forwarded-For":                "6.6.6.6",
		"X-Forwarded-Host":               "evil.example",
		"X-Forwarded-Proto":              "https",
		"X-Real-Ip":                      "6.6.6.6",
		"Cookie":                         "theme=dark",
	}
	for k, v := range spoof {
		req.Header[k] = []string{v} // keep the exact spelling
	}
	res, body := do(t, c, req)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var h map[string]string
	json.Unmarshal(body, &h)
	for k, v := range h {
		if strings.Contains(v, "admin") || strings.Contains(v, "evil") || strings.Contains(v, "6.6.6.6") || strings.Contains(v, "forged") {
			t.Errorf("upstream saw spoofed %s = %q", k, v)
		}
	}
	if h["x-forwarded-for"] != "127.0.0.1" || h["x-forwarded-proto"] != "http" {
		t.Errorf("X-Forwarded-For/Proto = %q/%q, want the gateway's own view", h["x-forwarded-for"], h["x-forwarded-proto"])
	}
	if h["cookie"] != "theme=dark" {
		t.Errorf("upstream cookie = %q, want only theme=dark", h["cookie"])
	}
}

func TestForwardAuth(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	nr := noRedirects(c)
	res, _ := get(t, nr, e.gw.URL+"/oauth2/auth")
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("/oauth2/auth with a session = %d, want 202", res.StatusCode)
	}
	for k, want := range map[string]string{
		"X-Auth-Request-User":               "1234567890",
		"X-Auth-Request-Email":              "jane.doe@example.com",
		"X-Auth-Request-Preferred-Username": "jane.doe",
		"X-Auth-Request-Groups":             "engineering,design",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(res.Header.Get("Authorization"), "Bearer ey") {
		t.Errorf("Authorization = %q, want the ID token", res.Header.Get("Authorization"))
	}
	res, _ = get(t, nr, e.gw.URL+"/oauth2/auth?allowed_groups=admins,ops")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("allowed_groups without membership = %d, want 403", res.StatusCode)
	}
	res, _ = get(t, nr, e.gw.URL+"/oauth2/auth?allowed_groups=ops,design")
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("allowed_groups with membership = %d, want 202", res.StatusCode)
	}
	res, _ = get(t, nr, e.gw.URL+"/oauth2/auth?allowed_emails=bob@example.com")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("allowed_emails without the user = %d, want 403", res.StatusCode)
	}
	res, _ = get(t, http.DefaultClient, e.gw.URL+"/oauth2/auth", "Accept", "text/html")
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/oauth2/auth without a session = %d, want 401 (never a redirect)", res.StatusCode)
	}
	// A tampered cookie is no session.
	ck := e.sessionCookie(c)
	tampered := ck.Value[:len(ck.Value)-2] + "AA"
	res, _ = get(t, http.DefaultClient, e.gw.URL+"/oauth2/auth", "Cookie", ck.Name+"="+tampered)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("/oauth2/auth with a tampered cookie = %d, want 401", res.StatusCode)
	}
	res, body := get(t, nr, e.gw.URL+"/oauth2/userinfo")
	var ui map[string]any
	json.Unmarshal(body, &ui)
	if res.StatusCode != 200 || ui["email"] != "jane.doe@example.com" || ui["user"] != "1234567890" {
		t.Errorf("userinfo = %d %s", res.StatusCode, body)
	}
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t, nil)
	// A browser navigation is sent to sign in, coming back to the page.
	res, _ := get(t, noRedirects(e.browser(t)), e.gw.URL+"/headers?a=b")
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/oauth2/start?rd=%2Fheaders%3Fa%3Db" {
		t.Errorf("browser without session: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	// A script gets 401 JSON naming the sign-in URL, readable cross-origin.
	res, body := get(t, http.DefaultClient, e.gw.URL+"/headers", "Accept", "application/json", "Origin", "http://localhost:3000", "Sec-Fetch-Mode", "cors")
	var p map[string]any
	json.Unmarshal(body, &p)
	if res.StatusCode != 401 || !strings.Contains(p["sign_in_url"].(string), "/oauth2/start?rd=") {
		t.Errorf("API without session: %d %s", res.StatusCode, body)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || res.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("401 lacks CORS headers for the allowed origin: %v", res.Header)
	}
}

func TestCORSPreflightAndCSRF(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequest("OPTIONS", e.gw.URL+"/", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	res, _ := do(t, http.DefaultClient, req)
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Content-Type") ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Errorf("preflight = %d %v", res.StatusCode, res.Header)
	}
	req.Header.Set("Origin", "http://evil.example")
	res, _ = do(t, http.DefaultClient, req)
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from a foreign origin got ACAO %q", res.Header.Get("Access-Control-Allow-Origin"))
	}

	c := e.signIn(t)
	post := func(origin string) int {
		req, _ := http.NewRequest("POST", e.gw.URL+"/", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, _ := do(t, noRedirects(c), req)
		return res.StatusCode
	}
	if got := post("http://evil.example"); got != http.StatusForbidden {
		t.Errorf("cross-site POST from a foreign origin = %d, want 403", got)
	}
	if got := post("http://localhost:3000"); got != http.StatusOK {
		t.Errorf("POST from the allowed origin = %d, want 200", got)
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	nr := noRedirects(c)
	// A cross-site GET only asks for confirmation.
	res, body := get(t, nr, e.gw.URL+"/oauth2/sign_out?rd=http://localhost:3000/login", "Sec-Fetch-Site", "cross-site")
	if res.StatusCode != 200 || !strings.Contains(string(body), `method="POST"`) {
		t.Fatalf("cross-site sign-out GET = %d, want a confirmation form", res.StatusCode)
	}
	if res, _ := get(t, nr, e.gw.URL+"/oauth2/auth"); res.StatusCode != 202 {
		t.Fatalf("the confirmation page signed the user out")
	}
	res, _ = get(t, nr, e.gw.URL+"/oauth2/sign_out?rd=http://localhost:3000/login", "Sec-Fetch-Site", "same-site")
	if res.StatusCode != 302 || res.Header.Get("Location") != "http://localhost:3000/login" {
		t.Errorf("sign-out = %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := get(t, nr, e.gw.URL+"/oauth2/auth"); res.StatusCode != 401 {
		t.Errorf("after sign-out /oauth2/auth = %d, want 401", res.StatusCode)
	}
	// A hostile rd falls back to "/".
	res, _ = get(t, nr, e.gw.URL+"/oauth2/sign_out?rd=https://evil.example/")
	if loc := res.Header.Get("Location"); loc != "/" {
		t.Errorf("sign-out with hostile rd redirected to %q, want /", loc)
	}
}

func TestHostileRDAfterLogin(t *testing.T) {
	e := newEnv(t, nil)
	for _, rd := range []string{"https://evil.example/", "//evil.example", `/\evil.example`, "http://localhost:3000.evil.example/", "javascript:alert(1)"} {
		t.Run(rd, func(t *testing.T) {
			c := e.browser(t)
			res, _ := get(t, c, e.gw.URL+"/oauth2/start?rd="+url.QueryEscape(rd))
			if res.Request.URL.Host != strings.TrimPrefix(e.gw.URL, "http://") || res.Request.URL.Path != "/" {
				t.Errorf("rd %q: login ended at %s, want the gateway's /", rd, res.Request.URL)
			}
		})
	}
	c := noRedirects(e.browser(t))
	// An allowed rd is honoured (the client on another origin).
	res, _ := get(t, c, e.gw.URL+"/oauth2/start?rd="+url.QueryEscape("http://localhost:3000/"))
	for res.StatusCode == http.StatusFound {
		loc, _ := res.Request.URL.Parse(res.Header.Get("Location"))
		if loc.Host == "localhost:3000" {
			return
		}
		res, _ = get(t, c, loc.String())
	}
	t.Errorf("allowed rd http://localhost:3000/ was not honoured; ended with %d", res.StatusCode)
}

func TestCallbackRejectsForgedState(t *testing.T) {
	e := newEnv(t, nil)
	c := noRedirects(e.browser(t))
	res, _ := get(t, c, e.gw.URL+"/oauth2/start")
	if res.StatusCode != 302 {
		t.Fatalf("start = %d", res.StatusCode)
	}
	res, body := get(t, c, e.gw.URL+"/oauth2/callback?code=stolen&state=forged")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("callback with forged state = %d %s, want 403", res.StatusCode, body)
	}
	if strings.Contains(string(body), "stolen") || strings.Contains(string(body), "forged") {
		t.Errorf("error page echoes request values")
	}
	// Without the CSRF cookie at all.
	res, _ = get(t, noRedirects(e.browser(t)), e.gw.URL+"/oauth2/callback?code=x&state=y")
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("callback without CSRF cookie = %d, want 403", res.StatusCode)
	}
	if strings.Contains(e.logs.String(), "stolen") {
		t.Errorf("the log contains the authorization code")
	}
}

func TestEmailDomainRestriction(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.EmailDomains = []string{"corp.example"} })
	res, body := get(t, e.browser(t), e.gw.URL+"/headers")
	if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "not allowed") {
		t.Errorf("jane@example.com with --email-domain=corp.example: %d", res.StatusCode)
	}
}

func TestUpstreamDown(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.Upstreams = []string{"http://127.0.0.1:1"} })
	// Sign in: the final page is the upstream, which is down.
	c := e.browser(t)
	get(t, c, e.gw.URL+"/headers") // signs in; ends on the 502 page
	res, body := get(t, c, e.gw.URL+"/headers", "Accept", "application/json", "Sec-Fetch-Mode", "cors")
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("upstream down = %d %s, want 502", res.StatusCode, body)
	}
	if strings.Contains(string(body), "127.0.0.1:1") || strings.Contains(string(body), "connection refused") {
		t.Errorf("502 leaks internals: %s", body)
	}
	if !strings.Contains(string(body), res.Header.Get("X-Request-Id")) {
		t.Errorf("502 lacks the request id")
	}
}

// TestSignOutConfirmationKeepsRD: the confirmation form posts rd in its
// body, and the user lands there.
func TestSignOutConfirmationKeepsRD(t *testing.T) {
	e := newEnv(t, nil)
	c := noRedirects(e.signIn(t))
	req, _ := http.NewRequest("POST", e.gw.URL+"/oauth2/sign_out", strings.NewReader("rd="+url.QueryEscape("http://localhost:3000/bye")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, _ := do(t, c, req)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "http://localhost:3000/bye" {
		t.Errorf("confirmed sign-out = %d to %q, want 303 to the posted rd", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestMetrics: requests, auth decisions, logins and upstream latency are
// counted in the gateway's own registry.
func TestMetrics(t *testing.T) {
	m := gateway.NewMetrics(nil)
	e := newEnv(t, func(c *gateway.Config) { c.Metrics = m })
	e.signIn(t)
	get(t, http.DefaultClient, e.gw.URL+"/oauth2/auth")
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	_, body := get(t, http.DefaultClient, srv.URL)
	for _, want := range []string{
		`gatehouse_gateway_requests_total{code="200",route="proxy"}`,
		`gatehouse_gateway_requests_total{code="401",route="auth"}`,
		`gatehouse_gateway_auth_decisions_total{decision="allowed"}`,
		`gatehouse_gateway_auth_decisions_total{decision="unauthenticated"}`,
		`gatehouse_gateway_logins_total{outcome="success"} 1`,
		`gatehouse_gateway_upstream_duration_seconds_count{code="200",upstream="` + e.upstream.URL + `"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
