package idp_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"gatehouse/internal/idp"
)

// Security regression tests written during a review. Each one states the
// attack it models; a failure means the attack works.

// TestSecurityDuplicateRedirectURIRefused: authorize.go compares the
// first redirect_uri (url.Values.Get) with the registered ones, but the
// token library decodes the request with gorilla-style schema decoding,
// which keeps the LAST value of a repeated parameter. A request naming
// the registered URI first and another one second passes the exact check
// and is then handled by the library with the second URI. For a public
// (native) client the library accepts any loopback host and port with the
// same path (RFC 8252), so the code goes to a redirect URI that was never
// registered.
func TestSecurityDuplicateRedirectURIRefused(t *testing.T) {
	e := newEnv(t, nil)
	verifier := oauth2.GenerateVerifier()
	for _, evil := range []string{
		"http://localhost:4444/callback", // another local port (spaCallback is localhost:3000)
		"http://127.0.0.1:1/callback",    // another loopback host
	} {
		t.Run(evil, func(t *testing.T) {
			q := url.Values{
				"client_id":             {spaID},
				"redirect_uri":          {spaCallback, evil},
				"response_type":         {"code"},
				"scope":                 {"openid email"},
				"state":                 {"st"},
				"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
				"code_challenge_method": {"S256"},
			}
			res, _ := get(t, e.url+"/authorize?"+q.Encode())
			if res.StatusCode != http.StatusFound {
				return // refused: fine
			}
			// The request was accepted: finish the sign-in and see where
			// the code goes.
			loginURL := e.abs(t, res.Header.Get("Location"))
			res, body := get(t, loginURL)
			m := hiddenID.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("authorize with two redirect_uri values answered 302 to %s (%d)", loginURL, res.StatusCode)
			}
			res, body = e.login(t, m[1], "alice@example.com", "password")
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login = %d: %s", res.StatusCode, body)
			}
			res, _ = get(t, e.abs(t, res.Header.Get("Location")))
			loc := res.Header.Get("Location")
			if !strings.HasPrefix(loc, spaCallback) {
				t.Errorf("authorization code delivered to an unregistered redirect_uri: %s (registered: %s)", loc, spaCallback)
			}
		})
	}
}

// TestSecurityDuplicateRedirectURIConfidential: the same trick against
// the confidential client must not get past the library's own exact
// comparison (regression guard).
func TestSecurityDuplicateRedirectURIConfidential(t *testing.T) {
	e := newEnv(t, nil)
	q := url.Values{
		"client_id":             {webID},
		"redirect_uri":          {webCallback, "https://evil.example/cb"},
		"response_type":         {"code"},
		"scope":                 {"openid email"},
		"state":                 {"st"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
		"code_challenge_method": {"S256"},
	}
	res, _ := get(t, e.url+"/authorize?"+q.Encode())
	if loc := res.Header.Get("Location"); strings.Contains(loc, "evil.example") {
		t.Fatalf("redirected to %s", loc)
	}
}

// TestSecurityLoginRateLimitConcurrent: the limiter is consulted (wait)
// before the password is checked and charged (fail) after, without
// holding anything in between. Wrong passwords sent concurrently all pass
// the check before any failure is recorded, so the per-account burst of 5
// does not bound a parallel guessing attack.
//
// The users have a bcrypt hash of cost 10, as `htpasswd -nbB` makes: the
// slower the hash, the wider the window.
func TestSecurityLoginRateLimitConcurrent(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), 10)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *idp.Config) {
		c.Users = []idp.User{{Email: "alice@example.com", PasswordHash: string(hash)}}
	})
	_, id := e.loginPage(t, e.authURL(t))
	const n = 40
	var checked atomic.Int32 // attempts whose password was actually compared
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			form := url.Values{"authRequestID": {id}, "email": {"alice@example.com"}, "password": {"wrong"}}
			req, _ := http.NewRequest("POST", e.url+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				checked.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	// The account allows a burst of 5 failures; the address 20.
	if got := checked.Load(); got > 5 {
		t.Errorf("%d of %d concurrent wrong passwords for one account were checked; the limit is a burst of 5", got, n)
	}
}

// TestSecurityCodeRedeemedOnce: two concurrent exchanges of one
// authorization code must not both get tokens (RFC 6749 section 4.1.2:
// a code is single-use). The store looks the code up
// (AuthRequestByCode) and forgets it (DeleteAuthRequest) in separate
// critical sections, with token creation and ID-token signing between.
func TestSecurityCodeRedeemedOnce(t *testing.T) {
	e := newEnv(t, nil)
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess)
	for attempt := range 5 {
		verifier := oauth2.GenerateVerifier()
		back := e.signIn(t, r.conf.AuthCodeURL("s", oidc.Nonce("n"), oauth2.S256ChallengeOption(verifier)), "alice@example.com", "password")
		code := back.Query().Get("code")
		const n = 16
		var ok atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range n {
			wg.Go(func() {
				<-start
				if _, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); err == nil {
					ok.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := ok.Load(); got > 1 {
			t.Fatalf("attempt %d: one authorization code was exchanged %d times", attempt, got)
		}
	}
}

// TestSecurityUnknownClientNoRedirect and friends: an authorization
// request for an unknown client or with an unregistered redirect_uri gets
// an error page, never a redirect (regression guard).
func TestSecurityAuthorizeNoOpenRedirect(t *testing.T) {
	e := newEnv(t, nil)
	for name, q := range map[string]url.Values{
		"unknown client": {"client_id": {"nobody"}, "redirect_uri": {"https://evil.example/"}, "response_type": {"code"}, "scope": {"openid"}},
		"prefix":         {"client_id": {webID}, "redirect_uri": {webCallback + "/../../evil"}, "response_type": {"code"}, "scope": {"openid"}},
		"query added":    {"client_id": {webID}, "redirect_uri": {webCallback + "?x=https://evil.example"}, "response_type": {"code"}, "scope": {"openid"}},
		"case":           {"client_id": {webID}, "redirect_uri": {strings.ToUpper(webCallback)}, "response_type": {"code"}, "scope": {"openid"}},
	} {
		res, _ := get(t, e.url+"/authorize?"+q.Encode())
		if res.StatusCode/100 == 3 {
			t.Errorf("%s: redirected to %s", name, res.Header.Get("Location"))
		}
	}
	// post_logout_redirect_uri, repeated: the library and the check read
	// the same decoded request, so the second value is what is checked.
	q := url.Values{"client_id": {webID}, "post_logout_redirect_uri": {webLogout, "https://evil.example/"}}
	res, _ := get(t, e.url+"/end_session?"+q.Encode())
	if loc := res.Header.Get("Location"); strings.Contains(loc, "evil.example") {
		t.Errorf("end_session redirected to %s", loc)
	}
}
