package e2e

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/testenv"
)

// TestOAuth2ProxyAgainstGatehouseIDP holds `gatehouse idp` to its promise
// of interoperating with standard OpenID Connect clients, not only ours:
// the real oauth2-proxy (built from tools/oauth2proxy) signs a browser in at
// the idp with --provider=oidc, discovery, the authorization-code flow with
// PKCE (S256) and a confidential client, configured as its documentation
// tells users to. No flag relaxes a check: oauth2-proxy verifies the
// issuer, the ID token's signature, audience, expiry and nonce, and that the
// email is verified, as for any provider; then it refreshes the session
// with the refresh token, twice.
func TestOAuth2ProxyAgainstGatehouseIDP(t *testing.T) {
	bin := testenv.OAuth2ProxyBin(t)

	// The idp must know oauth2-proxy's callback before oauth2-proxy can know
	// the idp's issuer, so oauth2-proxy's port is chosen first.
	proxyAddr := freeAddr(t)
	proxyURL := "http://" + proxyAddr
	secret := rand.Text()
	idp, addrs := Start(t, nil, []string{"idp listening"},
		"idp", "--addr", "127.0.0.1:0", "--client-secret", secret,
		"--redirect-uri", proxyURL+"/oauth2/callback",
		"--data-dir", t.TempDir(), "--log-format", "json")
	issuer := "http://" + addrs["idp listening"]
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gatehouse idp log:\n%s", idp.Stderr)
		}
	})

	// The upstream answers every request with the headers it received.
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(upstream.Close)

	startOAuth2Proxy(t, bin, proxyAddr,
		"--provider=oidc",
		"--oidc-issuer-url="+issuer,
		"--client-id=gatehouse",
		"--client-secret="+secret,
		"--cookie-secret="+newCookieSecret(),
		"--cookie-secure=false", // plain http on loopback
		"--email-domain=*",
		"--http-address="+proxyAddr,
		"--redirect-url="+proxyURL+"/oauth2/callback",
		"--upstream="+upstream.URL,
		"--skip-provider-button=true",
		"--pass-user-headers=true",
		"--set-xauthrequest=true",
		"--scope=openid email profile groups offline_access",
		"--code-challenge-method=S256",
		// Stricter than oauth2-proxy's defaults: send a nonce and check that
		// the ID token returns it (OpenID Connect Core 1.0 section 3.1.3.7,
		// step 11), and refresh a session once it is a second old, so that
		// the refresh token (offline_access) is used too.
		"--insecure-oidc-skip-nonce=false",
		"--cookie-refresh=1s",
	)

	// A browser asks for a protected page and is sent to the idp's login
	// form.
	nav := newNavigator(t)
	res, body := nav.get(t, proxyURL+"/headers")
	if !strings.HasPrefix(res.Request.URL.String(), issuer+"/login") {
		t.Fatalf("GET %s/headers ended at %s (%d), want the idp's login page; redirects: %v\n%s",
			proxyURL, res.Request.URL, res.StatusCode, nav.hops, body)
	}
	checkAuthorizeRequest(t, nav.hops, issuer, proxyURL)
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no authRequestID in the login form at %s:\n%s", res.Request.URL, body)
	}

	// Posting the form sends the browser back through oauth2-proxy's
	// callback, which redeems the code, to the page it asked for.
	form := url.Values{"authRequestID": {string(m[1])}, "email": {"alice@example.com"}, "password": {"password"}}
	req, err := http.NewRequest(http.MethodPost, issuer+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", issuer)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, body = nav.do(t, req, true)
	if res.StatusCode != http.StatusOK || res.Request.URL.String() != proxyURL+"/headers" {
		t.Fatalf("sign-in ended at %s with %d, want %s/headers with 200; redirects: %v\n%s",
			res.Request.URL, res.StatusCode, proxyURL, nav.hops, body)
	}
	if !nav.visited(proxyURL + "/oauth2/callback?") {
		t.Errorf("sign-in did not pass through oauth2-proxy's callback; redirects: %v", nav.hops)
	}

	// What the upstream saw: oauth2-proxy's --pass-user-headers set
	// X-Forwarded-User (the sub claim), -Email, -Preferred-Username and
	// -Groups (one header value per group) from the ID token.
	var seen http.Header
	if err := json.Unmarshal(body, &seen); err != nil {
		t.Fatalf("upstream answer %q: %v", body, err)
	}
	user := seen.Get("X-Forwarded-User")
	if user == "" {
		t.Errorf("upstream saw no X-Forwarded-User (the ID token's sub); headers: %v", seen)
	}
	checkHeader(t, "upstream request", seen, "X-Forwarded-Email", "alice@example.com")
	checkHeader(t, "upstream request", seen, "X-Forwarded-Preferred-Username", "alice")
	checkHeader(t, "upstream request", seen, "X-Forwarded-Groups", "admins")

	// The forward-auth endpoint (nginx's auth_request) accepts the session
	// cookie and answers with the X-Auth-Request-* headers.
	res, body = nav.getNoFollow(t, proxyURL+"/oauth2/auth")
	if res.StatusCode != http.StatusAccepted {
		t.Errorf("GET /oauth2/auth with the session = %d, want 202\n%s", res.StatusCode, body)
	}
	checkHeader(t, "/oauth2/auth", res.Header, "X-Auth-Request-User", user)
	checkHeader(t, "/oauth2/auth", res.Header, "X-Auth-Request-Email", "alice@example.com")
	checkHeader(t, "/oauth2/auth", res.Header, "X-Auth-Request-Preferred-Username", "alice")
	checkHeader(t, "/oauth2/auth", res.Header, "X-Auth-Request-Groups", "admins")

	// The session as oauth2-proxy describes it.
	res, body = nav.getNoFollow(t, proxyURL+"/oauth2/userinfo")
	var info struct {
		User              string   `json:"user"`
		Email             string   `json:"email"`
		Groups            []string `json:"groups"`
		PreferredUsername string   `json:"preferredUsername"`
	}
	if err := json.Unmarshal(body, &info); res.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("GET /oauth2/userinfo = %d %q (%v), want 200 and JSON", res.StatusCode, body, err)
	}
	if info.User != user || info.Email != "alice@example.com" || info.PreferredUsername != "alice" || !slices.Contains(info.Groups, "admins") {
		t.Errorf("GET /oauth2/userinfo = %s, want user %q, email alice@example.com, preferredUsername alice, groups with admins", body, user)
	}

	// A session older than --cookie-refresh is refreshed on its next use
	// with the refresh-token grant, and saved again: a new cookie. (Session
	// ages count whole seconds, so that takes 1 to 2 s.) The idp rotates
	// refresh tokens, so the second refresh succeeds only if oauth2-proxy
	// kept the token the first one returned.
	for i := 1; i <= 2; i++ {
		where := fmt.Sprintf("refresh %d: /oauth2/auth", i)
		before := tokenRequests(idp.Stderr.String())
		for deadline := time.Now().Add(10 * time.Second); ; {
			time.Sleep(100 * time.Millisecond)
			res, body = nav.getNoFollow(t, proxyURL+"/oauth2/auth")
			if res.StatusCode != http.StatusAccepted {
				t.Fatalf("%s = %d, want 202; token requests at the idp: %+v before, %+v now\n%s",
					where, res.StatusCode, before, tokenRequests(idp.Stderr.String()), body)
			}
			if slices.ContainsFunc(res.Header.Values("Set-Cookie"), func(c string) bool { return strings.HasPrefix(c, "_oauth2_proxy=") }) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s set no new _oauth2_proxy cookie within 10s, want the session refreshed after 1s; token requests at the idp: %+v before, %+v now",
					where, before, tokenRequests(idp.Stderr.String()))
			}
		}
		checkHeader(t, where, res.Header, "X-Auth-Request-Email", "alice@example.com")
		checkHeader(t, where, res.Header, "X-Auth-Request-Groups", "admins")
		// The idp logs a request once its answer is written: wait for it.
		after := tokenRequests(idp.Stderr.String())
		for deadline := time.Now().Add(5 * time.Second); after.ok == before.ok && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			after = tokenRequests(idp.Stderr.String())
		}
		if after.ok != before.ok+1 || after.failed > 0 {
			t.Errorf("%s: token requests at the idp went from %+v to %+v, want one more that succeeded and none that failed",
				where, before, after)
		}
	}

	// Without the cookie there is no session.
	res, err = http.Get(proxyURL + "/oauth2/auth")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /oauth2/auth without a session = %d, want 401", res.StatusCode)
	}
}

// checkAuthorizeRequest checks the authorization request oauth2-proxy sent
// the browser with: to the endpoint the idp's discovery names, for the
// configured client, callback and scopes, with a PKCE S256 challenge, a
// state and a nonce.
func checkAuthorizeRequest(t *testing.T, hops []string, issuer, proxyURL string) {
	t.Helper()
	i := slices.IndexFunc(hops, func(h string) bool { return strings.HasPrefix(h, issuer+"/authorize?") })
	if i < 0 {
		t.Fatalf("no redirect to %s/authorize; redirects: %v", issuer, hops)
	}
	u, err := url.Parse(hops[i])
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{
		"response_type":         "code",
		"client_id":             "gatehouse",
		"redirect_uri":          proxyURL + "/oauth2/callback",
		"scope":                 "openid email profile groups offline_access",
		"code_challenge_method": "S256",
	}
	for k, v := range want {
		if got := q.Get(k); got != v {
			t.Errorf("authorization request %s = %q, want %q (%s)", k, got, v, u)
		}
	}
	for _, k := range []string{"code_challenge", "state", "nonce"} {
		if q.Get(k) == "" {
			t.Errorf("authorization request without %s: %s", k, u)
		}
	}
}

// tokenCount counts the requests to the idp's token endpoint.
type tokenCount struct{ ok, failed int }

// tokenRequests counts the token requests in the idp's JSON access log.
func tokenRequests(log string) tokenCount {
	var n tokenCount
	for line := range strings.Lines(log) {
		var rec struct {
			Msg    string `json:"msg"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.Msg != "request" || rec.Path != "/oauth/token" {
			continue
		}
		if rec.Status == http.StatusOK {
			n.ok++
		} else {
			n.failed++
		}
	}
	return n
}

// checkHeader reports an error unless h's values for name include want.
func checkHeader(t *testing.T, where string, h http.Header, name, want string) {
	t.Helper()
	if got := h.Values(name); !slices.Contains(got, want) {
		t.Errorf("%s: %s = %q, want it to include %q", where, name, got, want)
	}
}

// startOAuth2Proxy runs bin with args and an empty environment (so no
// OAUTH2_PROXY_* variable of the developer's changes the test), and returns
// once it answers 200 at /ping on addr. It is stopped (SIGTERM, then
// SIGKILL) when the test ends, and its output printed if the test failed.
func startOAuth2Proxy(t *testing.T, bin, addr string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &testenv.LogBuffer{}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second // then SIGKILL
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("oauth2-proxy output:\n%s", out)
		}
	})

	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("oauth2-proxy exited before answering /ping (%v):\n%s", err, out)
		default:
		}
		res, err := c.Get("http://" + addr + "/ping")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
			err = errors.New(res.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("oauth2-proxy did not answer 200 at /ping within 20s (last: %v):\n%s", err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
