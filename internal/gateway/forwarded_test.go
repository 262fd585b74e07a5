package gateway

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"gatehouse/internal/session"
)

// newUnitGateway builds a Gateway from a minimal valid Config for unit
// tests; New does no I/O, so no provider is needed.
func newUnitGateway(t *testing.T, mutate func(*Config)) *Gateway {
	t.Helper()
	cfg := minimalConfig(t)
	if mutate != nil {
		mutate(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return g
}

// minimalConfig is the least a valid Config needs.
func minimalConfig(t *testing.T) Config {
	t.Helper()
	codec, err := session.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		IssuerURL:    "https://idp.example",
		ClientID:     "client",
		ClientSecret: "secret",
		EmailDomains: []string{"*"},
		Codec:        codec,
	}
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range s {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}

// peerRequest is a request from peer (host:port) with the given header pairs.
func peerRequest(method, target, peer string, hdr ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

// TestTrustClientIP checks that only trusted proxies can name the client,
// and only by the right-most address they did not add themselves.
func TestTrustClientIP(t *testing.T) {
	tr := &trust{prefixes: prefixes("10.0.0.0/8", "127.0.0.0/8", "::1/128", "fd00::/8")}
	tests := []struct {
		name string
		peer string
		hdr  []string
		want string
	}{
		{"untrusted peer, no headers", "203.0.113.9:5555", nil, "203.0.113.9"},
		{"untrusted peer ignores X-Forwarded-For", "203.0.113.9:5555", []string{"X-Forwarded-For", "1.2.3.4"}, "203.0.113.9"},
		{"untrusted peer ignores X-Real-IP", "203.0.113.9:5555", []string{"X-Real-IP", "1.2.3.4"}, "203.0.113.9"},
		{"untrusted peer ignores both", "203.0.113.9:5555", []string{"X-Forwarded-For", "10.0.0.5", "X-Real-IP", "127.0.0.1"}, "203.0.113.9"},

		{"trusted peer, no headers", "10.0.0.2:5555", nil, "10.0.0.2"},
		{"trusted peer, one hop", "10.0.0.2:5555", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7"},
		{"trusted peer, spoofed left part ignored", "10.0.0.2:5555", []string{"X-Forwarded-For", "1.1.1.1, 2.2.2.2, 198.51.100.7"}, "198.51.100.7"},
		{"trusted peer, trusted hops skipped", "10.0.0.2:5555", []string{"X-Forwarded-For", "1.1.1.1, 198.51.100.7, 10.0.0.9, 10.0.0.3"}, "198.51.100.7"},
		{"trusted peer, hops over several lines", "10.0.0.2:5555", []string{"X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "198.51.100.7, 10.0.0.3"}, "198.51.100.7"},
		{"all-trusted chain gives the left-most hop", "10.0.0.2:5555", []string{"X-Forwarded-For", "10.1.1.1, 127.0.0.1, 10.0.0.3"}, "10.1.1.1"},
		{"unparseable hop stops the walk at the last trusted address", "10.0.0.2:5555", []string{"X-Forwarded-For", "198.51.100.7, unknown, 10.0.0.3"}, "10.0.0.3"},
		{"unparseable right-most hop gives the peer", "10.0.0.2:5555", []string{"X-Forwarded-For", "198.51.100.7, garbage"}, "10.0.0.2"},
		{"trusted peer, X-Real-IP without X-Forwarded-For", "10.0.0.2:5555", []string{"X-Real-IP", "198.51.100.8"}, "198.51.100.8"},
		{"trusted peer, X-Forwarded-For wins over X-Real-IP", "10.0.0.2:5555", []string{"X-Forwarded-For", "198.51.100.7", "X-Real-IP", "198.51.100.8"}, "198.51.100.7"},
		{"trusted peer, bad X-Real-IP ignored", "10.0.0.2:5555", []string{"X-Real-IP", "not an ip"}, "10.0.0.2"},

		{"IPv6 untrusted peer", "[2001:db8::1]:443", []string{"X-Forwarded-For", "1.2.3.4"}, "2001:db8::1"},
		{"IPv6 trusted peer", "[::1]:443", []string{"X-Forwarded-For", "2001:db8::7"}, "2001:db8::7"},
		{"IPv6 trusted peer, unique-local hop skipped", "[fd00::1]:443", []string{"X-Forwarded-For", "2001:db8::7, fd00::2"}, "2001:db8::7"},
		{"IPv4-mapped trusted peer", "[::ffff:10.0.0.2]:5555", []string{"X-Forwarded-For", "198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped untrusted peer", "[::ffff:203.0.113.9]:5555", []string{"X-Forwarded-For", "1.2.3.4"}, "203.0.113.9"},
		{"IPv4-mapped hop unmapped", "10.0.0.2:5555", []string{"X-Forwarded-For", "::ffff:198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped trusted hop skipped", "10.0.0.2:5555", []string{"X-Forwarded-For", "198.51.100.7, ::ffff:10.0.0.3"}, "198.51.100.7"},

		{"peer without a port", "10.0.0.2", []string{"X-Forwarded-For", "198.51.100.7"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := peerRequest("GET", "/", tt.peer, tt.hdr...)
			if got := tr.clientIP(r); got != tt.want {
				t.Errorf("clientIP(peer %q, %q) = %q, want %q", tt.peer, tt.hdr, got, tt.want)
			}
		})
	}
}

// TestTrustNobodyByDefault checks that without --reverse-proxy no peer,
// not even loopback, can set X-Forwarded-* (oauth2-proxy trusted everyone:
// CVE-2026-40575).
func TestTrustNobodyByDefault(t *testing.T) {
	g := newUnitGateway(t, nil)
	r := peerRequest("GET", "/", "127.0.0.1:5555", "X-Forwarded-For", "198.51.100.7", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example")
	if got := g.trusted.clientIP(r); got != "127.0.0.1" {
		t.Errorf("clientIP = %q, want 127.0.0.1", got)
	}
	if scheme, host := g.origin(r); scheme != "http" || host != "example.com" {
		t.Errorf("origin = %q, %q; want http, example.com", scheme, host)
	}

	// --reverse-proxy alone trusts loopback and private networks.
	g = newUnitGateway(t, func(c *Config) { c.ReverseProxy = true })
	for _, peer := range []string{"127.0.0.1:1", "10.1.2.3:1", "172.16.0.1:1", "192.168.1.1:1", "[::1]:1", "[fd12::1]:1"} {
		r := peerRequest("GET", "/", peer, "X-Forwarded-For", "198.51.100.7")
		if got := g.trusted.clientIP(r); got != "198.51.100.7" {
			t.Errorf("with --reverse-proxy, clientIP(peer %q) = %q, want 198.51.100.7", peer, got)
		}
	}
	r = peerRequest("GET", "/", "203.0.113.9:1", "X-Forwarded-For", "198.51.100.7")
	if got := g.trusted.clientIP(r); got != "203.0.113.9" {
		t.Errorf("with --reverse-proxy, clientIP(public peer) = %q, want 203.0.113.9", got)
	}
}

// TestGatewayOrigin checks that X-Forwarded-Proto and -Host are believed
// only from trusted proxies, and only when they are a plain scheme and
// host.
func TestGatewayOrigin(t *testing.T) {
	g := newUnitGateway(t, func(c *Config) { c.ReverseProxy = true; c.TrustedProxies = prefixes("10.0.0.0/8") })
	const trusted, untrusted = "10.0.0.2:5555", "203.0.113.9:5555"
	tests := []struct {
		name       string
		peer       string
		tls        bool
		hdr        []string
		wantScheme string
		wantHost   string
	}{
		{"plain request", untrusted, false, nil, "http", "gateway.example"},
		{"TLS request", untrusted, true, nil, "https", "gateway.example"},
		{"untrusted proto ignored", untrusted, false, []string{"X-Forwarded-Proto", "https"}, "http", "gateway.example"},
		{"untrusted host ignored", untrusted, false, []string{"X-Forwarded-Host", "evil.example"}, "http", "gateway.example"},
		{"untrusted proto cannot downgrade TLS", untrusted, true, []string{"X-Forwarded-Proto", "http"}, "https", "gateway.example"},

		{"trusted proto and host", trusted, false, []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example:8443"}, "https", "app.example:8443"},
		{"trusted proto upper case", trusted, false, []string{"X-Forwarded-Proto", "HTTPS"}, "https", "gateway.example"},
		{"trusted proto list, first wins", trusted, false, []string{"X-Forwarded-Proto", "https, http"}, "https", "gateway.example"},
		{"trusted proto other scheme ignored", trusted, false, []string{"X-Forwarded-Proto", "javascript"}, "http", "gateway.example"},
		{"trusted host list, first wins", trusted, false, []string{"X-Forwarded-Host", "app.example, other.example"}, "http", "app.example"},
		{"trusted IPv6 host", trusted, false, []string{"X-Forwarded-Host", "[2001:db8::1]:8443"}, "http", "[2001:db8::1]:8443"},
		{"trusted host with a path ignored", trusted, false, []string{"X-Forwarded-Host", "evil.example/path"}, "http", "gateway.example"},
		{"trusted host with userinfo ignored", trusted, false, []string{"X-Forwarded-Host", "gateway.example@evil.example"}, "http", "gateway.example"},
		{"trusted host with a space ignored", trusted, false, []string{"X-Forwarded-Host", "evil.example x"}, "http", "gateway.example"},
		{"trusted host with a backslash ignored", trusted, false, []string{"X-Forwarded-Host", `evil.example\x`}, "http", "gateway.example"},
		{"trusted host with a query ignored", trusted, false, []string{"X-Forwarded-Host", "evil.example?x"}, "http", "gateway.example"},
		{"trusted host with a fragment ignored", trusted, false, []string{"X-Forwarded-Host", "evil.example#x"}, "http", "gateway.example"},
		{"trusted host with percent ignored", trusted, false, []string{"X-Forwarded-Host", "evil%2eexample"}, "http", "gateway.example"},
		{"trusted empty host ignored", trusted, false, []string{"X-Forwarded-Host", ""}, "http", "gateway.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := peerRequest("GET", "http://gateway.example/", tt.peer, tt.hdr...)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			scheme, host := g.origin(r)
			if scheme != tt.wantScheme || host != tt.wantHost {
				t.Errorf("origin(peer %q, tls %v, %q) = %q, %q; want %q, %q", tt.peer, tt.tls, tt.hdr, scheme, host, tt.wantScheme, tt.wantHost)
			}
		})
	}
}

// TestAppRedirect checks where the gateway sends the user after sign-in
// or sign-out: a validated rd, X-Auth-Request-Redirect, or a trusted
// proxy's X-Forwarded-Uri; anything refused becomes "/".
func TestAppRedirect(t *testing.T) {
	g := newUnitGateway(t, func(c *Config) {
		c.ReverseProxy = true
		c.TrustedProxies = prefixes("10.0.0.0/8")
		c.WhitelistDomains = []string{".localhost:3000", "app.example"}
	})
	const trusted, untrusted = "10.0.0.2:5555", "203.0.113.9:5555"
	tests := []struct {
		name   string
		target string // request URI, with rd
		peer   string
		hdr    []string
		want   string
	}{
		{"nothing", "/oauth2/start", untrusted, nil, "/"},
		{"rd path", "/oauth2/start?rd=%2Ftodos%3Fpage%3D2", untrusted, nil, "/todos?page=2"},
		{"rd whitelisted origin", "/oauth2/start?rd=http%3A%2F%2Flocalhost%3A3000%2Fdashboard", untrusted, nil, "http://localhost:3000/dashboard"},
		{"rd whitelisted host", "/oauth2/start?rd=https%3A%2F%2Fapp.example%2Fx", untrusted, nil, "https://app.example/x"},
		{"rd on the gateway's own origin reduced to its path", "/oauth2/start?rd=http%3A%2F%2Fgateway.example%2Ftodos%3Fa%3D1", untrusted, nil, "/todos?a=1"},
		{"rd on the gateway's own origin, upper case", "/oauth2/start?rd=HTTP%3A%2F%2FGATEWAY.EXAMPLE%2Ftodos", untrusted, nil, "/todos"},
		{"rd on the gateway's own origin, no path", "/oauth2/start?rd=http%3A%2F%2Fgateway.example", untrusted, nil, "/"},
		{"rd on the gateway's host, other scheme", "/oauth2/start?rd=https%3A%2F%2Fgateway.example%2Ftodos", untrusted, nil, "/"},
		{"rd on the gateway's host with userinfo", "/oauth2/start?rd=http%3A%2F%2Fevil%40gateway.example%2Ftodos", untrusted, nil, "/"},
		{"rd on the forwarded origin from a trusted proxy", "/oauth2/start?rd=https%3A%2F%2Fpublic.example%2Ftodos", trusted, []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example"}, "/todos"},
		{"rd on a forwarded origin from an untrusted peer", "/oauth2/start?rd=https%3A%2F%2Fpublic.example%2Ftodos", untrusted, []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example"}, "/"},

		{"hostile rd: other host", "/oauth2/start?rd=https%3A%2F%2Fevil.example%2F", untrusted, nil, "/"},
		{"hostile rd: look-alike host", "/oauth2/start?rd=https%3A%2F%2Fbadapp.example%2F", untrusted, nil, "/"},
		{"hostile rd: protocol-relative", "/oauth2/start?rd=%2F%2Fevil.example%2F", untrusted, nil, "/"},
		{"hostile rd: backslash", "/oauth2/start?rd=%2F%5Cevil.example", untrusted, nil, "/"},
		{"hostile rd: tab between slashes", "/oauth2/start?rd=%2F%09%2Fevil.example", untrusted, nil, "/"},
		{"hostile rd: javascript", "/oauth2/start?rd=javascript%3Aalert(1)", untrusted, nil, "/"},
		{"hostile rd: schemeless host", "/oauth2/start?rd=evil.example%2Fx", untrusted, nil, "/"},
		{"hostile rd: userinfo on the gateway host", "/oauth2/start?rd=http%3A%2F%2Fgateway.example%40evil.example%2F", untrusted, nil, "/"},
		{"hostile rd does not fall through to the header", "/oauth2/start?rd=%2F%2Fevil.example", untrusted, []string{"X-Auth-Request-Redirect", "/fine"}, "/"},

		{"X-Auth-Request-Redirect", "/oauth2/start", untrusted, []string{"X-Auth-Request-Redirect", "/from-header"}, "/from-header"},
		{"rd wins over X-Auth-Request-Redirect", "/oauth2/start?rd=%2Ffrom-rd", untrusted, []string{"X-Auth-Request-Redirect", "/from-header"}, "/from-rd"},
		{"hostile X-Auth-Request-Redirect", "/oauth2/start", untrusted, []string{"X-Auth-Request-Redirect", "https://evil.example/"}, "/"},

		{"X-Forwarded-Uri from a trusted proxy", "/oauth2/start", trusted, []string{"X-Forwarded-Uri", "/todos/1?x=y"}, "/todos/1?x=y"},
		{"X-Forwarded-Uri from an untrusted peer ignored", "/oauth2/start", untrusted, []string{"X-Forwarded-Uri", "/todos/1"}, "/"},
		{"X-Auth-Request-Redirect wins over X-Forwarded-Uri", "/oauth2/start", trusted, []string{"X-Auth-Request-Redirect", "/from-header", "X-Forwarded-Uri", "/from-uri"}, "/from-header"},
		{"hostile X-Forwarded-Uri from a trusted proxy", "/oauth2/start", trusted, []string{"X-Forwarded-Uri", "//evil.example/"}, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := peerRequest("GET", "http://gateway.example"+tt.target, tt.peer, tt.hdr...)
			if got := g.appRedirect(r); got != tt.want {
				t.Errorf("appRedirect(%q, peer %q, %q) = %q, want %q", tt.target, tt.peer, tt.hdr, got, tt.want)
			}
		})
	}
}

// TestCallbackURL checks that the callback is --redirect-url when set, and
// otherwise built from the origin the client used.
func TestCallbackURL(t *testing.T) {
	tests := []struct {
		name     string
		redirect string
		peer     string
		hdr      []string
		want     string
	}{
		{"configured", "https://login.example/oauth2/callback", "10.0.0.2:1", []string{"X-Forwarded-Host", "evil.example"}, "https://login.example/oauth2/callback"},
		{"from the request", "", "203.0.113.9:1", nil, "http://gateway.example/oauth2/callback"},
		{"untrusted forwarded host ignored", "", "203.0.113.9:1", []string{"X-Forwarded-Host", "evil.example"}, "http://gateway.example/oauth2/callback"},
		{"trusted forwarded origin", "", "10.0.0.2:1", []string{"X-Forwarded-Proto", "https", "X-Forwarded-Host", "public.example"}, "https://public.example/oauth2/callback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newUnitGateway(t, func(c *Config) {
				c.RedirectURL = tt.redirect
				c.TrustedProxies = prefixes("10.0.0.0/8")
			})
			r := peerRequest("GET", "http://gateway.example/oauth2/start", tt.peer, tt.hdr...)
			if got := g.callbackURL(r); got != tt.want {
				t.Errorf("callbackURL(peer %q, %q) = %q, want %q", tt.peer, tt.hdr, got, tt.want)
			}
		})
	}
}

// TestAppRedirectNeverToGatewayPaths checks that a trusted proxy's
// X-Forwarded-Uri naming one of the gateway's own /oauth2/ endpoints
// becomes "/", as in oauth2-proxy (appDirector.hasProxyPrefix): sent back
// to /oauth2/sign_out the browser would loop on it, and sent back to
// /oauth2/sign_in it would lose the session it just got.
func TestAppRedirectNeverToGatewayPaths(t *testing.T) {
	g := newUnitGateway(t, func(c *Config) { c.TrustedProxies = prefixes("10.0.0.0/8") })
	for _, uri := range []string{"/oauth2/sign_out", "/oauth2/sign_in", "/oauth2/start?rd=%2Fx", "/oauth2/callback?code=x&state=y"} {
		r := peerRequest("GET", "http://gateway.example/oauth2/sign_out", "10.0.0.2:1", "X-Forwarded-Uri", uri)
		if got := g.appRedirect(r); got != "/" {
			t.Errorf("appRedirect(X-Forwarded-Uri %q) = %q, want /", uri, got)
		}
	}
	r := peerRequest("GET", "http://gateway.example/oauth2/sign_out", "10.0.0.2:1", "X-Forwarded-Uri", "/oauth2/sign_out")
	w := httptest.NewRecorder()
	g.ServeHTTP(w, r)
	if loc := w.Header().Get("Location"); loc == "/oauth2/sign_out" {
		t.Errorf("GET /oauth2/sign_out with X-Forwarded-Uri /oauth2/sign_out redirects to %q, itself", loc)
	}
}
