package idp_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/internal/idp"
)

// authURL is an authorization request of the web client, with PKCE.
func (e *env) authURL(t *testing.T) string {
	t.Helper()
	q := url.Values{
		"client_id": {webID}, "redirect_uri": {webCallback}, "response_type": {"code"},
		"scope": {"openid email"}, "state": {"st"}, "nonce": {"n"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"},
	}
	return e.url + "/authorize?" + q.Encode()
}

func TestLoginPage(t *testing.T) {
	e := newEnv(t, nil)
	loginURL, _ := e.loginPage(t, e.authURL(t))
	res, body := get(t, loginURL)
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("the login page uses script or inline allowances")
	}
	for _, want := range []string{
		`<label for="email">`, `id="email" name="email" type="email"`, `autocomplete="username"`,
		`<label for="password">`, `type="password" autocomplete="current-password"`,
		`method="post" action="/login"`, `name="viewport"`, `lang="en"`, "to continue to <strong>web</strong>",
		"alice@example.com", // the demo hint
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("login page headers: %v", res.Header)
	}
	res, body = get(t, e.url+"/assets/idp.css")
	if res.StatusCode != 200 || !strings.Contains(body, ":focus-visible") {
		t.Errorf("stylesheet: %d", res.StatusCode)
	}
}

func TestWrongPasswordShowsFormAgain(t *testing.T) {
	e := newEnv(t, nil)
	_, id := e.loginPage(t, e.authURL(t))
	for _, tt := range []struct{ name, email, password, message string }{
		{"wrong password", "alice@example.com", "wrong", "The email address or password is not correct."},
		{"unknown account", "mallory@example.com", "password", "The email address or password is not correct."},
		{"empty password", "alice@example.com", "", "Enter your email address and your password."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, body := e.login(t, id, tt.email, tt.password)
			if res.StatusCode != http.StatusOK || res.Header.Get("Location") != "" {
				t.Fatalf("status %d Location %q, want the form again", res.StatusCode, res.Header.Get("Location"))
			}
			for _, want := range []string{`role="alert"`, tt.message, `value="` + tt.email + `"`, `aria-invalid="true"`, `name="authRequestID" value="` + id + `"`} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
		})
	}
	if strings.Contains(e.logs.String(), `"wrong"`) {
		t.Errorf("the log contains the typed password")
	}
	if !strings.Contains(e.logs.String(), "sign-in failed") {
		t.Errorf("failed sign-in not logged")
	}
	// The right password still works afterwards.
	res, _ := e.login(t, id, "alice@example.com", "password")
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("right password after failures = %d, want 303", res.StatusCode)
	}
}

func TestLoginRateLimited(t *testing.T) {
	e := newEnv(t, nil)
	_, id := e.loginPage(t, e.authURL(t))
	for i := range 5 {
		if res, _ := e.login(t, id, "alice@example.com", "guess"+strconv.Itoa(i)); res.StatusCode != http.StatusOK {
			t.Fatalf("attempt %d = %d, want 200 (the form again)", i+1, res.StatusCode)
		}
	}
	// The sixth attempt on the account waits, even with the right password.
	res, body := e.login(t, id, "alice@example.com", "password")
	retry, _ := strconv.Atoi(res.Header.Get("Retry-After"))
	if res.StatusCode != http.StatusTooManyRequests || retry < 1 || !strings.Contains(body, "Too many failed sign-in attempts") ||
		!strings.Contains(body, `role="alert"`) {
		t.Fatalf("sixth attempt = %d Retry-After %q:\n%s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	// Another account from the same address is not affected yet.
	if res, _ := e.login(t, id, "bob@example.com", "nope"); res.StatusCode != http.StatusOK {
		t.Errorf("other account = %d, want 200", res.StatusCode)
	}
	// After Retry-After, one attempt is allowed again.
	e.clock.Advance(time.Duration(retry) * time.Second)
	if res, _ := e.login(t, id, "alice@example.com", "password"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("after waiting = %d, want 303", res.StatusCode)
	}
}

func TestLoginRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t, nil)
	_, id := e.loginPage(t, e.authURL(t))
	for i := range 20 {
		if res, _ := e.login(t, id, "user"+strconv.Itoa(i)+"@example.com", "guess"); res.StatusCode != http.StatusOK {
			t.Fatalf("attempt %d = %d, want 200", i+1, res.StatusCode)
		}
	}
	res, _ := e.login(t, id, "alice@example.com", "password")
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("21st attempt from one address = %d Retry-After %q, want 429", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

func TestUnregisteredRedirectGetsErrorPage(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name, clientID, redirect string
	}{
		{"unregistered redirect_uri", webID, "https://evil.example/callback"},
		{"registered URI with another path", webID, webCallback + "/x"},
		{"another client's redirect_uri", webID, spaCallback},
		{"missing redirect_uri", webID, ""},
		{"unknown client", "nobody", webCallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"client_id": {tt.clientID}, "redirect_uri": {tt.redirect}, "response_type": {"code"}, "scope": {"openid"}, "state": {"st"}}
			res, body := get(t, e.url+"/authorize?"+q.Encode())
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
				t.Errorf("status %d Location %q, want 400 and no redirect", res.StatusCode, res.Header.Get("Location"))
			}
			if !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "not registered") || !strings.Contains(body, res.Header.Get("X-Request-Id")) {
				t.Errorf("error page:\n%s", body)
			}
			if strings.Contains(body, "evil.example") {
				t.Errorf("error page echoes the request")
			}
		})
	}
	// A registered redirect URI gets protocol errors there.
	q := url.Values{"client_id": {webID}, "redirect_uri": {webCallback}, "response_type": {"token"}, "scope": {"openid"}, "state": {"st"}}
	res, _ := get(t, e.url+"/authorize?"+q.Encode())
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc.Query().Get("error") != "unsupported_response_type" || loc.Query().Get("state") != "st" {
		t.Errorf("response_type=token: %d Location %q", res.StatusCode, loc)
	}
}

func TestCrossSiteLoginRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, id := e.loginPage(t, e.authURL(t))
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "", "Origin", "http://evil.example"},
	} {
		res, body := e.login(t, id, "alice@example.com", "password", hdr...)
		if res.StatusCode != http.StatusForbidden || res.Header.Get("Location") != "" || !strings.Contains(body, "another site") {
			t.Errorf("login POST with %v = %d Location %q", hdr, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// A made-up auth request id is no login.
	res, body := e.login(t, "made-up", "alice@example.com", "password")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "expired") {
		t.Errorf("login with an unknown request id = %d", res.StatusCode)
	}
	// The callback only finishes a completed sign-in.
	res, _ = get(t, e.url+"/authorize/callback?id="+url.QueryEscape(id))
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
		t.Errorf("callback before sign-in = %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestLoginTimeout(t *testing.T) {
	e := newEnv(t, nil)
	loginURL, id := e.loginPage(t, e.authURL(t))
	e.clock.Advance(idp.LoginTimeout)
	res, _ := get(t, loginURL)
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("login page after LoginTimeout = %d, want 400", res.StatusCode)
	}
	if res, _ := e.login(t, id, "alice@example.com", "password"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("login after LoginTimeout = %d, want 400", res.StatusCode)
	}
}

func TestLoginHintFillsEmail(t *testing.T) {
	e := newEnv(t, nil)
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID)
	u := r.conf.AuthCodeURL("s", oauth2.SetAuthURLParam("login_hint", "bob@example.com"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	loginURL, _ := e.loginPage(t, u)
	_, body := get(t, loginURL)
	if !strings.Contains(body, `value="bob@example.com"`) {
		t.Errorf("login_hint not used")
	}
}
