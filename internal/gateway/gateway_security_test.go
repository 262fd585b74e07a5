package gateway_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gatehouse/internal/gateway"
	"gatehouse/internal/session"
)

// Security tests written during a review. Each states the attack it
// models; a failure means the attack works.

// TestSecurityForwardAuthRefusesCrossOriginWrites: in proxy mode a
// cross-origin state-changing request carrying the session is refused
// (CSRF, http.CrossOriginProtection). In forward-auth mode (nginx
// auth_request, the tutorial's deployment; Traefik ForwardAuth) the same
// request is asked about at /oauth2/auth, which never looks at Origin or
// Sec-Fetch-Site, so the protected application gets the POST with the
// identity headers. With the default SameSite=Lax cookie a same-site page
// (a sibling subdomain, another port on localhost) sends the cookie on a
// cross-origin form POST.
func TestSecurityForwardAuthRefusesCrossOriginWrites(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	ck := e.sessionCookie(c)
	attack := func(method, path string, hdr map[string]string) int {
		req, _ := http.NewRequest(method, e.gw.URL+path, strings.NewReader("title=pwned"))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", "http://evil.localhost:9999")
		req.Header.Set("Sec-Fetch-Site", "same-site")
		req.Header.Set("Sec-Fetch-Mode", "no-cors")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		req.AddCookie(ck)
		res, _ := do(t, http.DefaultClient, req)
		return res.StatusCode
	}
	// Proxy mode refuses it: the reference behaviour.
	if got := attack("POST", "/todos", nil); got != http.StatusForbidden {
		t.Fatalf("proxy: cross-origin POST = %d, want 403", got)
	}
	// nginx: auth_request keeps the client's method (routes.go), and the
	// shipped nginx.conf also sends X-Forwarded-Method and X-Forwarded-Uri.
	if got := attack("POST", "/oauth2/auth", map[string]string{"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/todos"}); got == http.StatusAccepted {
		t.Errorf("forward auth: cross-origin POST (nginx style) = 202; the protected app receives a CSRF write with the user's identity")
	}
	// Traefik ForwardAuth: GET with X-Forwarded-Method.
	if got := attack("GET", "/oauth2/auth", map[string]string{"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/todos"}); got == http.StatusAccepted {
		t.Errorf("forward auth: cross-origin POST (Traefik style, X-Forwarded-Method) = 202")
	}
	// A same-origin write through forward auth must keep working.
	req, _ := http.NewRequest("POST", e.gw.URL+"/oauth2/auth", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-Method", "POST")
	req.AddCookie(ck)
	if res, _ := do(t, http.DefaultClient, req); res.StatusCode != http.StatusAccepted {
		t.Errorf("forward auth: same-origin POST = %d, want 202", res.StatusCode)
	}
}

// TestSecurityRDIntoGatewayPagesEncoded: appRedirect sends a target under
// /oauth2/ to "/" so that the login never ends on sign_in (which ends the
// fresh session) or sign_out. The guard compares the escaped target, but
// the browser requests it as is and Go's router decodes it: rd
// "/%6Fauth2/sign_in" passes the guard and lands on /oauth2/sign_in,
// which clears the session that was just created.
func TestSecurityRDIntoGatewayPagesEncoded(t *testing.T) {
	e := newEnv(t, nil)
	for _, rd := range []string{"/%6Fauth2/sign_in", "/%6fauth2/sign_out", "/oauth2/sign_in", "/oauth2", "/oauth2?x=1"} {
		t.Run(rd, func(t *testing.T) {
			c := noRedirects(e.browser(t))
			res, _ := get(t, c, e.gw.URL+"/oauth2/start?rd="+url.QueryEscape(rd))
			var final string
			for i := 0; res.StatusCode == http.StatusFound && i < 10; i++ {
				loc, _ := res.Request.URL.Parse(res.Header.Get("Location"))
				if res.Request.URL.Path == "/oauth2/callback" {
					final = res.Header.Get("Location")
					break
				}
				res, _ = get(t, c, loc.String())
			}
			if final == "" {
				t.Fatalf("login did not reach the callback's redirect")
			}
			u, _ := url.Parse(final)
			if p, _ := url.PathUnescape(u.EscapedPath()); strings.HasPrefix(p, "/oauth2/") {
				// Show the consequence: following it ends the session.
				res, _ := get(t, c, e.gw.URL+final, "Sec-Fetch-Site", "same-origin")
				cleared := false
				for _, ck := range res.Cookies() {
					if ck.Name == session.DefaultCookieName && ck.MaxAge < 0 {
						cleared = true
					}
				}
				t.Errorf("after sign-in the callback redirects to %q, a gateway page (%s); it answered %d, session cleared: %v",
					final, p, res.StatusCode, cleared)
			}
		})
	}
}

// TestSecuritySignInCrossSiteKeepsSession: /oauth2/sign_out asks for
// confirmation when another site sends the browser there, so a link or
// top-level navigation from another site cannot sign the user out. But a
// GET of /oauth2/sign_in ends the session too, with no such check: the
// same cross-site navigation to /oauth2/sign_in signs the user out.
func TestSecuritySignInCrossSiteKeepsSession(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	nr := noRedirects(c)
	res, _ := get(t, nr, e.gw.URL+"/oauth2/sign_in", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate")
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusFound {
		t.Fatalf("sign_in = %d", res.StatusCode)
	}
	if res, _ := get(t, nr, e.gw.URL+"/oauth2/auth"); res.StatusCode != http.StatusAccepted {
		t.Errorf("a cross-site navigation to /oauth2/sign_in signed the user out (/oauth2/auth = %d), "+
			"while the same navigation to /oauth2/sign_out only asks for confirmation", res.StatusCode)
	}
}

// ---- Regression guards: attacks that the review found refused. ----

// TestSecurityProxyCSRFVariants: cross-origin writes in every browser
// shape are refused by the proxy.
func TestSecurityProxyCSRFVariants(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	ck := e.sessionCookie(c)
	for name, hdr := range map[string]map[string]string{
		"text/plain, cross-site":               {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
		"no Sec-Fetch-Site, foreign Origin":    {"Origin": "https://evil.example"},
		"no Sec-Fetch-Site, Origin null":       {"Origin": "null"},
		"allowed origin with trailing slash":   {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000/"},
		"allowed origin as prefix":             {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000.evil.example"},
		"allowed origin other port":            {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:30000"},
		"allowed origin other scheme":          {"Sec-Fetch-Site": "same-site", "Origin": "https://localhost:3000"},
		"same-site sibling without CORS grant": {"Sec-Fetch-Site": "same-site", "Origin": "http://evil.localhost"},
	} {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			req, _ := http.NewRequest(method, e.gw.URL+"/todos", strings.NewReader("x"))
			req.Header.Set("Content-Type", "text/plain")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			req.AddCookie(ck)
			res, _ := do(t, http.DefaultClient, req)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s = %d, want 403", name, method, res.StatusCode)
			}
			if a := res.Header.Get("Access-Control-Allow-Origin"); a != "" && a != "http://localhost:3000" {
				t.Errorf("%s: Access-Control-Allow-Origin %q", name, a)
			}
		}
	}
	// CORS: only the exact allowed origin is reflected, never "null" or a
	// look-alike; preflights of others are not answered with a grant.
	for _, o := range []string{"null", "http://localhost:3000/", "http://localhost:3000.evil.example", "http://evil.localhost:3000", "https://localhost:3000"} {
		req, _ := http.NewRequest("OPTIONS", e.gw.URL+"/todos", nil)
		req.Header.Set("Origin", o)
		req.Header.Set("Access-Control-Request-Method", "DELETE")
		res, _ := do(t, http.DefaultClient, req)
		if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight from %q granted: %v", o, res.Header)
		}
	}
}

// TestSecurityCookieConfusion: the CSRF cookie's value, a session split
// with a gap, duplicated parts, and a part renamed do not open as a
// session.
func TestSecurityCookieConfusion(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	ck := e.sessionCookie(c)
	// A CSRF cookie from a fresh /oauth2/start.
	b := noRedirects(e.browser(t))
	res, _ := get(t, b, e.gw.URL+"/oauth2/start")
	var csrf string
	for _, k := range res.Cookies() {
		if k.Name == session.DefaultCookieName+"_csrf" {
			csrf = k.Value
		}
	}
	if csrf == "" {
		t.Fatal("no CSRF cookie")
	}
	half := len(ck.Value) / 2
	for name, cookie := range map[string]string{
		"CSRF value as session":   "_oauth2_proxy=" + csrf,
		"session value as part 1": "_oauth2_proxy_1=" + ck.Value,
		"gap in parts":            "_oauth2_proxy_0=" + ck.Value[:half] + "; _oauth2_proxy_2=" + ck.Value[half:],
		"leading zero part":       "_oauth2_proxy_0=" + ck.Value[:half] + "; _oauth2_proxy_01=" + ck.Value[half:],
		"part 16":                 "_oauth2_proxy_0=" + ck.Value + "; _oauth2_proxy_16=x",
		"other name":              "_oauth2_proxyx=" + ck.Value,
		"truncated":               "_oauth2_proxy=" + ck.Value[:len(ck.Value)-1],
	} {
		res, _ := get(t, http.DefaultClient, e.gw.URL+"/oauth2/auth", "Cookie", cookie)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: /oauth2/auth = %d, want 401", name, res.StatusCode)
		}
	}
	// The session cookie does not open as login state at the callback.
	req, _ := http.NewRequest("GET", e.gw.URL+"/oauth2/callback?code=x&state=y", nil)
	req.Header.Set("Cookie", "_oauth2_proxy_csrf="+ck.Value)
	if res, _ := do(t, http.DefaultClient, req); res.StatusCode != http.StatusForbidden {
		t.Errorf("session value as CSRF cookie: callback = %d, want 403", res.StatusCode)
	}
}

// TestSecurityHopByHopCannotDropIdentity: a client listing the identity
// headers in Connection cannot make the upstream see the request without
// them (or with its own), nor keep the session cookie.
func TestSecurityHopByHopCannotDropIdentity(t *testing.T) {
	e := newEnv(t, func(c *gateway.Config) { c.PassAuthorizationHeader = true })
	c := e.signIn(t)
	req, _ := http.NewRequest("GET", e.gw.URL+"/headers", nil)
	req.Header.Set("Connection", "X-Forwarded-User, X-Forwarded-Email, Authorization, X-Forwarded-For, X-Real-Ip, X-Request-Id")
	req.Header.Set("Authorization", "Bearer forged")
	res, body := do(t, c, req)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	var h map[string]string
	json.Unmarshal(body, &h)
	if h["x-forwarded-user"] == "" || h["x-forwarded-email"] == "" || !strings.HasPrefix(h["authorization"], "Bearer ey") {
		t.Errorf("upstream lost or got forged identity: user %q email %q authorization %q", h["x-forwarded-user"], h["x-forwarded-email"], h["authorization"])
	}
	if strings.Contains(h["cookie"], session.DefaultCookieName) {
		t.Errorf("upstream saw the session cookie")
	}
}

// TestSecurityNoSecretsInLogs: a whole sign-in, proxied requests, a
// refresh-free sign-out: the JSON log holds no token, code or cookie.
func TestSecurityNoSecretsInLogs(t *testing.T) {
	e := newEnv(t, nil)
	c := e.signIn(t)
	ck := e.sessionCookie(c)
	res, body := get(t, noRedirects(c), e.gw.URL+"/headers")
	var h map[string]string
	json.Unmarshal(body, &h)
	_ = res
	get(t, noRedirects(c), e.gw.URL+"/oauth2/sign_out", "Sec-Fetch-Site", "same-origin")
	logs := e.logs.String()
	if strings.Contains(logs, ck.Value[:32]) {
		t.Errorf("log contains the session cookie")
	}
	if strings.Contains(logs, "eyJ") {
		t.Errorf("log contains a JWT")
	}
	if strings.Contains(logs, "code=") || strings.Contains(logs, "state=") {
		t.Errorf("log contains a callback query")
	}
}
