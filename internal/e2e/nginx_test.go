package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"gatehouse/internal/testenv"
)

const (
	// nginxEnv names the nginx to run (a path, or a name on PATH) instead
	// of the one on PATH or Debian's /usr/sbin/nginx.
	nginxEnv  = "GATEHOUSE_NGINX"
	nginxHint = "install Debian's nginx: apt-get install nginx (or set " + nginxEnv + " to an nginx built with the auth_request module)"

	// shippedNginxConf is the configuration users copy; the test runs it.
	shippedNginxConf = "../../deploy/nginx/nginx.conf"
)

// TestNginxAuthRequest runs the tutorial's architecture with real parts:
// Debian's nginx with the shipped deploy/nginx/nginx.conf in front of
// `gatehouse gateway` (answering only nginx's auth_request, no --upstream)
// and `gatehouse api`, signing in at mockoidc, an OpenID provider that is
// not ours. The configuration is the shipped file's text with only the
// listen address, the two upstream addresses and the file paths changed, so
// the test proves the file users get.
func TestNginxAuthRequest(t *testing.T) {
	bin := nginxBinary(t)

	idp, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("start mockoidc: %v", err)
	}
	t.Cleanup(func() { idp.Shutdown() })

	_, apiAddrs := Start(t, nil, []string{"api listening"},
		"api", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")

	// The gateway must know nginx's address (its callback URL) before nginx
	// can know the gateway's, so nginx's port is chosen first.
	nginxAddr := freeAddr(t)
	base := "http://" + nginxAddr
	idpCfg := idp.Config()
	gwEnv := map[string]string{
		// The tutorial's compose environment, pointed at this test's hosts.
		"OAUTH2_PROXY_CLIENT_ID":                idpCfg.ClientID,
		"OAUTH2_PROXY_CLIENT_SECRET":            idpCfg.ClientSecret,
		"OAUTH2_PROXY_COOKIE_SECRET":            newCookieSecret(),
		"OAUTH2_PROXY_EMAIL_DOMAINS":            "*",
		"OAUTH2_PROXY_REVERSE_PROXY":            "true",
		"OAUTH2_PROXY_REDIRECT_URL":             base + "/oauth2/callback",
		"OAUTH2_PROXY_COOKIE_SECURE":            "false",
		"OAUTH2_PROXY_SET_AUTHORIZATION_HEADER": "true",
		"OAUTH2_PROXY_SET_XAUTHREQUEST":         "true",
		"OAUTH2_PROXY_WHITELIST_DOMAINS":        ".localhost:3000",
		// The tutorial's final step: no button page, straight to the
		// provider, so the whole sign-in is a chain of redirects.
		"OAUTH2_PROXY_SKIP_PROVIDER_BUTTON": "true",
		// Refresh tokens once they are a second old, so that a refreshed
		// cookie has to travel back through nginx (add_header Set-Cookie).
		"OAUTH2_PROXY_COOKIE_REFRESH": "1s",
	}
	gw, gwAddrs := Start(t, gwEnv, []string{"gateway listening"},
		"gateway", "--log-format", "json", "--oidc-issuer-url", idp.Issuer(),
		"--scope", "openid email profile groups", "--http-address", "127.0.0.1:0")
	gwAddr := gwAddrs["gateway listening"]
	waitOK(t, "http://"+gwAddr+"/ready")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gateway log:\n%s", gw.Stderr)
		}
	})

	startNginx(t, bin, nginxAddr, gwAddr, apiAddrs["api listening"])

	nginxURL, _ := url.Parse(base)
	b := newNavigator(t)
	// A cookie of the site's own, which the API must still get.
	b.client.Jar.SetCookies(nginxURL, []*http.Cookie{{Name: "theme", Value: "dark", Path: "/"}})

	t.Run("APIClientWithoutSession", func(t *testing.T) {
		// A script gets 401 and a problem document; its identity headers
		// never reach the API.
		res, body := newNavigator(t).get(t, base+"/headers",
			"Accept", "application/json", "Sec-Fetch-Mode", "cors", "X-Forwarded-User", "admin")
		var p map[string]any
		json.Unmarshal(body, &p)
		if res.StatusCode != http.StatusUnauthorized || p["sign_in_url"] != "/oauth2/sign_in" {
			t.Errorf("GET /headers as an API client without a session = %d %s, want 401 with sign_in_url", res.StatusCode, body)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("401 Content-Type = %q, want application/problem+json", ct)
		}
		if res.Header.Get("WWW-Authenticate") == "" || res.Header.Get("Location") != "" {
			t.Errorf("401 headers = %v, want WWW-Authenticate and no Location", res.Header)
		}
	})

	t.Run("PageLoadWithoutSession", func(t *testing.T) {
		// A browser is sent straight on to the provider, asked to come back
		// to the callback on nginx's address.
		res, _ := b.getNoFollow(t, base+"/headers")
		loc, err := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), idp.AuthorizationEndpoint()) {
			t.Fatalf("GET /headers as a page load without a session = %d to %q, want 302 to %s", res.StatusCode, res.Header.Get("Location"), idp.AuthorizationEndpoint())
		}
		if got := loc.Query().Get("redirect_uri"); got != base+"/oauth2/callback" {
			t.Errorf("redirect_uri = %q, want %q", got, base+"/oauth2/callback")
		}
	})

	var h map[string]string
	t.Run("SignIn", func(t *testing.T) {
		// The query has two parameters: the tutorial's
		// ?rd=$scheme://$host$request_uri loses everything after the "&".
		b.hops = nil
		res, body := b.get(t, base+"/headers?x=1&y=2")
		if res.StatusCode != http.StatusOK || res.Request.URL.String() != base+"/headers?x=1&y=2" {
			t.Fatalf("sign-in ended at %s with %d, want %s/headers?x=1&y=2 with 200; hops %v; body %s", res.Request.URL, res.StatusCode, base, b.hops, body)
		}
		if !b.visited(idp.AuthorizationEndpoint()) || !b.visited(base+"/oauth2/callback?") {
			t.Errorf("sign-in hops %v, want the provider's authorization endpoint and the callback on nginx", b.hops)
		}
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatalf("GET /headers: not the API's JSON (%v): %s", err, body)
		}
		if b.cookie(nginxURL, "_oauth2_proxy") == "" {
			t.Errorf("no _oauth2_proxy cookie in the jar after sign-in")
		}
	})
	if h == nil {
		t.FailNow()
	}

	t.Run("APISeesIdentity", func(t *testing.T) {
		want := map[string]string{
			"host":                           nginxAddr,
			"x-forwarded-host":               nginxAddr,
			"x-forwarded-proto":              "http",
			"x-forwarded-for":                "127.0.0.1",
			"x-real-ip":                      "127.0.0.1",
			"x-forwarded-user":               "1234567890",
			"x-forwarded-email":              "jane.doe@example.com",
			"x-forwarded-preferred-username": "jane.doe",
			"x-forwarded-groups":             "engineering,design",
		}
		for k, v := range want {
			if h[k] != v {
				t.Errorf("API saw %s = %q, want %q", k, h[k], v)
			}
		}
		claims := bearerClaims(t, h["authorization"])
		if claims["sub"] != "1234567890" || claims["email"] != "jane.doe@example.com" ||
			claims["iss"] != idp.Issuer() || !hasAudience(claims["aud"], idpCfg.ClientID) {
			t.Errorf("API's Authorization carries claims %v, want mockoidc's ID token for jane.doe@example.com", claims)
		}
		if got := cookieNames(h["cookie"]); len(got) != 1 || got[0] != "theme" {
			t.Errorf("API saw cookies %q, want only theme (never _oauth2_proxy)", got)
		}
		if _, ok := h["x-auth-request-redirect"]; ok {
			t.Errorf("API saw X-Auth-Request-Redirect")
		}
	})

	t.Run("SpoofedIdentityHeaders", func(t *testing.T) {
		spoof := map[string]string{
			"X-Forwarded-User":               "admin",
			"X-Forwarded-Email":              "admin@evil.example",
			"X-Forwarded-Groups":             "admins",
			"X-Forwarded-Preferred-Username": "admin",
			"X_Forwarded_User":               "admin",
			"X-Forwarded-Access-Token":       "forged",
			"X-Auth-Request-User":            "admin",
			"X-Auth-Request-Email":           "admin@evil.example",
			"Authorization":                  "Bearer forged",
			"X-Forwarded-For":                "6.6.6.6",
			"X-Real-Ip":                      "6.6.6.6",
			"X-Forwarded-Host":               "evil.example",
			"X-Forwarded-Proto":              "https",
		}
		req, _ := http.NewRequest("GET", base+"/headers", nil)
		for k, v := range spoof {
			req.Header[k] = []string{v} // the exact spelling, underscores too
		}
		res, body := b.do(t, req, true)
		var got map[string]string
		if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("GET /headers with spoofed headers = %d %s", res.StatusCode, body)
		}
		for k, v := range got {
			if k == "authorization" {
				continue // a JWT: checked below, not by substrings
			}
			if strings.Contains(v, "admin") || strings.Contains(v, "evil") || strings.Contains(v, "6.6.6.6") || strings.Contains(v, "forged") || v == "https" {
				t.Errorf("API saw spoofed %s = %q", k, v)
			}
		}
		if got["x-forwarded-email"] != "jane.doe@example.com" || got["x-forwarded-user"] != "1234567890" {
			t.Errorf("API saw user %q <%s>, want jane.doe's identity from the gateway", got["x-forwarded-user"], got["x-forwarded-email"])
		}
		if claims := bearerClaims(t, got["authorization"]); claims["email"] != "jane.doe@example.com" {
			t.Errorf("API saw an Authorization token for %v, want jane.doe's ID token", claims["email"])
		}
	})

	t.Run("AuthEndpointInternal", func(t *testing.T) {
		// Its answer holds the ID token; a page script must not read it.
		res, _ := b.getNoFollow(t, base+"/oauth2/auth")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /oauth2/auth through nginx = %d, want 404 (internal)", res.StatusCode)
		}
		for k := range res.Header {
			if k == "Authorization" || strings.HasPrefix(k, "X-Auth-Request-") {
				t.Errorf("GET /oauth2/auth through nginx answered with %s", k)
			}
		}
	})

	t.Run("UserInfo", func(t *testing.T) {
		res, body := b.get(t, base+"/oauth2/userinfo", "Accept", "application/json", "Sec-Fetch-Mode", "cors")
		var ui map[string]any
		json.Unmarshal(body, &ui)
		if res.StatusCode != http.StatusOK || ui["email"] != "jane.doe@example.com" {
			t.Errorf("GET /oauth2/userinfo through nginx = %d %s", res.StatusCode, body)
		}
	})

	t.Run("RefreshedCookieReachesBrowser", func(t *testing.T) {
		before := b.cookie(nginxURL, "_oauth2_proxy")
		time.Sleep(1100 * time.Millisecond) // make the refresh due (--cookie-refresh=1s)
		res, body := b.get(t, base+"/headers")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /headers after the refresh was due = %d %s", res.StatusCode, body)
		}
		var set *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "_oauth2_proxy" {
				set = c
			}
		}
		if set == nil {
			t.Fatalf("the API's answer carries no refreshed _oauth2_proxy cookie; Set-Cookie: %q", res.Header.Values("Set-Cookie"))
		}
		if !set.HttpOnly || set.Path != "/" || set.Value == before {
			t.Errorf("refreshed cookie = %s, want a new HttpOnly value for path /", set)
		}
		if after := b.cookie(nginxURL, "_oauth2_proxy"); after != set.Value {
			t.Errorf("the jar did not take the refreshed cookie")
		}
		res, _ = b.getNoFollow(t, base+"/headers")
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET /headers with the refreshed cookie = %d, want 200", res.StatusCode)
		}
	})

	t.Run("SignOut", func(t *testing.T) {
		// Without rd, the gateway comes back to "/": never to the
		// sign-out URI itself (a redirect loop), nor to a target the client
		// slipped in as X-Auth-Request-Redirect.
		res, _ := b.getNoFollow(t, base+"/oauth2/sign_out", "X-Auth-Request-Redirect", "/evil")
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/" {
			t.Errorf("GET /oauth2/sign_out = %d to %q, want 302 to /", res.StatusCode, res.Header.Get("Location"))
		}
		if c := b.cookie(nginxURL, "_oauth2_proxy"); c != "" {
			t.Errorf("the session cookie survived sign-out")
		}
		res, _ = b.getNoFollow(t, base+"/headers")
		if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), idp.AuthorizationEndpoint()) {
			t.Errorf("GET /headers after sign-out = %d to %q, want 302 to the provider", res.StatusCode, res.Header.Get("Location"))
		}
		res, _ = b.get(t, base+"/headers", "Accept", "application/json", "Sec-Fetch-Mode", "cors")
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("API call after sign-out = %d, want 401", res.StatusCode)
		}

		// The tutorial's logout link comes back to its client on
		// localhost:3000 (OAUTH2_PROXY_WHITELIST_DOMAINS); other hosts are
		// refused.
		for rd, want := range map[string]string{"http://localhost:3000/": "http://localhost:3000/", "https://evil.example/": "/"} {
			res, _ = b.getNoFollow(t, base+"/oauth2/sign_out?rd="+url.QueryEscape(rd))
			if got := res.Header.Get("Location"); res.StatusCode != http.StatusFound || got != want {
				t.Errorf("GET /oauth2/sign_out?rd=%s = %d to %q, want 302 to %q", rd, res.StatusCode, got, want)
			}
		}
	})
}

// nginxBinary finds nginx: $GATEHOUSE_NGINX, else nginx on PATH, else
// Debian's /usr/sbin/nginx (not on a normal user's PATH). When there is
// none, or it lacks the auth_request module, it calls testenv.Require.
func nginxBinary(t *testing.T) string {
	t.Helper()
	var bin string
	if name := os.Getenv(nginxEnv); name != "" {
		p, err := exec.LookPath(name)
		if err != nil {
			testenv.Require(t, "nginx", fmt.Sprintf("%s=%q is not an executable (%v); %s", nginxEnv, name, err, nginxHint))
		}
		bin = p
	} else if p, err := exec.LookPath("nginx"); err == nil {
		bin = p
	} else if fi, err := os.Stat("/usr/sbin/nginx"); err == nil && !fi.IsDir() {
		bin = "/usr/sbin/nginx"
	} else {
		testenv.Require(t, "nginx", nginxHint)
	}
	out, err := exec.Command(bin, "-V").CombinedOutput() // nginx prints its build to stderr
	if err != nil {
		testenv.Require(t, "nginx", fmt.Sprintf("%s -V failed (%v); %s", bin, err, nginxHint))
	}
	if !bytes.Contains(out, []byte("--with-http_auth_request_module")) {
		testenv.Require(t, "nginx", bin+" is built without the auth_request module; "+nginxHint)
	}
	return bin
}

// startNginx runs nginx in the foreground with the shipped configuration,
// rewritten to listen on listen and to reach the gateway and the API at
// the given addresses, with every file it writes inside a temporary prefix
// directory. It returns once nginx accepts connections; nginx is stopped
// (SIGQUIT, then SIGKILL) when the test ends, and its logs are printed if
// the test failed.
func startNginx(t *testing.T, bin, listen, gatewayAddr, apiAddr string) {
	t.Helper()
	shipped, err := os.ReadFile(shippedNginxConf)
	if err != nil {
		t.Fatalf("read the shipped configuration: %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(testNginxConf(t, string(shipped), dir, listen, gatewayAddr, apiAddr)), 0o644); err != nil {
		t.Fatal(err)
	}
	errorLog := filepath.Join(dir, "error.log")
	args := []string{"-e", errorLog, "-p", dir + "/", "-c", conf, "-g", "daemon off; pid " + filepath.Join(dir, "nginx.pid") + ";"}
	if out, err := exec.Command(bin, append([]string{"-t"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t rejects the configuration (%v):\n%s", err, out)
	}

	var output bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT) // graceful: finish requests, then exit
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("nginx did not stop within 10s of SIGQUIT")
		}
		if t.Failed() {
			errs, _ := os.ReadFile(errorLog)
			access, _ := os.ReadFile(filepath.Join(dir, "access.log"))
			t.Logf("nginx error log:\n%s%s\nnginx access log:\n%s", errs, output.String(), access)
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			errs, _ := os.ReadFile(errorLog)
			t.Fatalf("nginx exited (%v):\n%s%s", err, errs, output.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx does not accept connections on %s after 10s", listen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testNginxConf rewrites the shipped configuration for a test run. Each
// edit checks that what it replaces is there, so a reshaped shipped file
// fails here instead of being tested half-rewritten. (An upstream host left
// unreplaced would fail too: nginx -t cannot resolve gateway or todo-api.)
func testNginxConf(t *testing.T, conf, dir, listen, gatewayAddr, apiAddr string) string {
	t.Helper()
	edit := func(pattern, repl string, once bool) {
		re := regexp.MustCompile(pattern)
		if n := len(re.FindAllStringIndex(conf, -1)); n == 0 || once && n > 1 {
			want := "one or more"
			if once {
				want = "exactly one"
			}
			t.Fatalf("shipped nginx.conf: %d matches of %q, want %s", n, pattern, want)
		}
		conf = re.ReplaceAllLiteralString(conf, repl)
	}
	edit(`(?m)^[ \t]*listen[ \t]+80;`, "        listen "+listen+";", true)
	edit(`http://gateway:4180;`, "http://"+gatewayAddr+";", false)
	edit(`http://todo-api:8000;`, "http://"+apiAddr+";", false)
	// Every file nginx writes goes to the prefix directory, not /var.
	var paths strings.Builder
	paths.WriteString("http {\n")
	fmt.Fprintf(&paths, "    access_log %s;\n", filepath.Join(dir, "access.log"))
	for _, p := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&paths, "    %s_temp_path %s;\n", p, filepath.Join(dir, p+"_temp"))
	}
	edit(`(?m)^http \{\n`, paths.String(), true)
	if os.Geteuid() == 0 {
		// As root, nginx would run its workers as "nobody", who cannot
		// enter the test's private temporary directory.
		conf = "user root;\n" + conf
	}
	return conf
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cookieSecret makes a cookie secret as the tutorial does: 32 random bytes,
// base64 (URL alphabet).
func newCookieSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// waitOK polls u until it answers 200.
func waitOK(t *testing.T, u string) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := c.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 20s (last: %v)", u, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// navigator is a browser without the rendering: a cookie jar, redirects
// followed (and recorded), and the headers of a page load.
type navigator struct {
	client *http.Client
	hops   []string
}

func newNavigator(t *testing.T) *navigator {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &navigator{}
	n.client = &http.Client{
		Jar:       jar,
		Transport: pageLoad{http.DefaultTransport},
		Timeout:   20 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return fmt.Errorf("stopped after 10 redirects: %v", n.hops)
			}
			n.hops = append(n.hops, req.URL.String())
			return nil
		},
	}
	return n
}

// visited reports whether a recorded redirect went to a URL starting with
// prefix.
func (n *navigator) visited(prefix string) bool {
	for _, h := range n.hops {
		if strings.HasPrefix(h, prefix) {
			return true
		}
	}
	return false
}

// cookie returns the value of the jar's cookie name for u, or "".
func (n *navigator) cookie(u *url.URL, name string) string {
	for _, c := range n.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// pageLoad adds what a browser sends when it loads a page, unless the
// request says otherwise.
type pageLoad struct{ rt http.RoundTripper }

func (p pageLoad) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	}
	if r.Header.Get("Sec-Fetch-Mode") == "" {
		r.Header.Set("Sec-Fetch-Mode", "navigate")
	}
	return p.rt.RoundTrip(r)
}

// get sends a GET with the given header name-value pairs and follows
// redirects.
func (n *navigator) get(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return n.do(t, newGet(t, u, header), true)
}

// getNoFollow is get without following redirects.
func (n *navigator) getNoFollow(t *testing.T, u string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return n.do(t, newGet(t, u, header), false)
}

func newGet(t *testing.T, u string, header []string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// do sends req and reads the whole answer.
func (n *navigator) do(t *testing.T, req *http.Request, follow bool) (*http.Response, []byte) {
	t.Helper()
	c := n.client
	if !follow {
		cc := *c
		cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		c = &cc
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return res, body
}

// bearerClaims returns the claims of the JWT in an "Authorization: Bearer"
// value, unverified: the gateway verified it; the test only checks whose it
// is.
func bearerClaims(t *testing.T, authorization string) map[string]any {
	t.Helper()
	token, ok := strings.CutPrefix(authorization, "Bearer ")
	parts := strings.Split(token, ".")
	if !ok || len(parts) != 3 {
		t.Fatalf("Authorization = %q, want Bearer and a JWT", authorization)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err == nil {
		err = json.Unmarshal(payload, &claims)
	}
	if err != nil {
		t.Fatalf("Authorization's JWT payload: %v", err)
	}
	return claims
}

// hasAudience reports whether a JWT's aud claim, a string or a list,
// names clientID.
func hasAudience(aud any, clientID string) bool {
	switch a := aud.(type) {
	case string:
		return a == clientID
	case []any:
		return slices.Contains(a, any(clientID))
	}
	return false
}

// cookieNames lists the names in a Cookie header value.
func cookieNames(header string) []string {
	var names []string
	for part := range strings.SplitSeq(header, ";") {
		if name, _, _ := strings.Cut(strings.TrimSpace(part), "="); name != "" {
			names = append(names, name)
		}
	}
	return names
}
