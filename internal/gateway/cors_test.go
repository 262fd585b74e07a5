package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckOrigin(t *testing.T) {
	tests := []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:3000", true},
		{"https://app.example", true},
		{"https://app.example:8443", true},
		{"https://app.example/", true}, // a trailing slash is tolerated
		{"HTTPS://App.Example", true},
		{"http://127.0.0.1:3000", true},
		{"http://[::1]:3000", true},

		{"*", false},
		{"https://*.example.com", false},
		{"https://app.example:*", false},
		{"null", false},
		{"", false},
		{"localhost:3000", false},
		{"app.example", false},
		{"//app.example", false},
		{"https://", false},
		{"https://app.example/path", false},
		{"https://app.example/app/", false},
		{"https://app.example?x=1", false},
		{"https://app.example#top", false},
		{"https://user@app.example", false},
		{"https://user:pw@app.example", false},
		{"ftp://app.example", false},
		{"file:///etc/passwd", false},
		{"chrome-extension://abcdef", false},
		{"javascript:alert(1)", false},
		{"ws://app.example", false},
	}
	for _, tt := range tests {
		t.Run(tt.origin, func(t *testing.T) {
			err := checkOrigin(tt.origin)
			if (err == nil) != tt.ok {
				t.Errorf("checkOrigin(%q) = %v, want ok %v", tt.origin, err, tt.ok)
			}
		})
	}
}

// TestCORSHandle checks the CORS headers: only an allowed origin gets
// them, preflights list methods and headers explicitly (a "*" means
// nothing with credentials), and a foreign origin's preflight is never
// answered.
func TestCORSHandle(t *testing.T) {
	c := newCORS([]string{"http://localhost:3000", "HTTPS://App.Example/"})
	type want struct {
		answered bool
		status   int // when answered
		headers  http.Header
	}
	allowedSimple := func(origin string) http.Header {
		return http.Header{
			"Vary":                             {"Origin"},
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {corsExpose},
		}
	}
	allowedPreflight := func(origin string) http.Header {
		return http.Header{
			"Vary":                             {"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"},
			"Access-Control-Allow-Origin":      {origin},
			"Access-Control-Allow-Credentials": {"true"},
			"Access-Control-Expose-Headers":    {corsExpose},
			"Access-Control-Allow-Methods":     {corsMethods},
			"Access-Control-Allow-Headers":     {corsHeaders},
			"Access-Control-Max-Age":           {"600"},
		}
	}
	// A response that varies by Origin says so to caches even when it
	// carries no CORS headers, so a cached answer for a foreign origin is
	// never served to an allowed one.
	varyOnly := http.Header{"Vary": {"Origin"}}
	tests := []struct {
		name   string
		method string
		hdr    []string
		want   want
	}{
		{"allowed origin GET", "GET", []string{"Origin", "http://localhost:3000"}, want{headers: allowedSimple("http://localhost:3000")}},
		{"allowed origin POST", "POST", []string{"Origin", "http://localhost:3000"}, want{headers: allowedSimple("http://localhost:3000")}},
		{"allowed origin configured in upper case with a slash", "GET", []string{"Origin", "https://app.example"}, want{headers: allowedSimple("https://app.example")}},
		{"allowed origin sent in upper case", "GET", []string{"Origin", "HTTP://LOCALHOST:3000"}, want{headers: allowedSimple("HTTP://LOCALHOST:3000")}},
		{"allowed origin, OPTIONS without a request method is not a preflight", "OPTIONS", []string{"Origin", "http://localhost:3000"}, want{headers: allowedSimple("http://localhost:3000")}},

		{"no origin", "GET", nil, want{headers: varyOnly}},
		{"foreign origin", "GET", []string{"Origin", "https://evil.example"}, want{headers: varyOnly}},
		{"other port", "GET", []string{"Origin", "http://localhost:3001"}, want{headers: varyOnly}},
		{"other scheme", "GET", []string{"Origin", "https://localhost:3000"}, want{headers: varyOnly}},
		{"origin with a path", "GET", []string{"Origin", "http://localhost:3000/x"}, want{headers: varyOnly}},
		{"suffix of an allowed origin", "GET", []string{"Origin", "http://evil.localhost:3000"}, want{headers: varyOnly}},
		{"null origin", "GET", []string{"Origin", "null"}, want{headers: varyOnly}},

		{"preflight from an allowed origin", "OPTIONS", []string{"Origin", "http://localhost:3000", "Access-Control-Request-Method", "DELETE", "Access-Control-Request-Headers", "content-type"},
			want{answered: true, status: http.StatusNoContent, headers: allowedPreflight("http://localhost:3000")}},
		{"preflight from a foreign origin", "OPTIONS", []string{"Origin", "https://evil.example", "Access-Control-Request-Method", "DELETE"}, want{headers: varyOnly}},
		{"preflight without an origin", "OPTIONS", []string{"Access-Control-Request-Method", "DELETE"}, want{headers: varyOnly}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := peerRequest(tt.method, "http://gateway.example/todos", "203.0.113.9:1", tt.hdr...)
			w := httptest.NewRecorder()
			answered := c.handle(w, r)
			if answered != tt.want.answered {
				t.Errorf("handle(%s %q) = %v, want %v", tt.method, tt.hdr, answered, tt.want.answered)
			}
			if answered && w.Code != tt.want.status {
				t.Errorf("handle(%s %q) status = %d, want %d", tt.method, tt.hdr, w.Code, tt.want.status)
			}
			if diff := cmp.Diff(tt.want.headers, w.Header()); diff != "" {
				t.Errorf("handle(%s %q) headers mismatch (-want +got):\n%s", tt.method, tt.hdr, diff)
			}
		})
	}
}

// TestCORSPreflightListsAreExplicit checks that no "*" appears where
// credentials make it meaningless, and that the methods the API uses are
// listed.
func TestCORSPreflightListsAreExplicit(t *testing.T) {
	for _, list := range []string{corsMethods, corsHeaders, corsExpose} {
		if strings.Contains(list, "*") {
			t.Errorf("CORS list %q contains *, which means nothing with credentials", list)
		}
	}
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		if !strings.Contains(corsMethods, m) {
			t.Errorf("corsMethods = %q, want it to list %s", corsMethods, m)
		}
	}
	for _, h := range []string{"Content-Type", "Authorization"} {
		if !strings.Contains(corsHeaders, h) {
			t.Errorf("corsHeaders = %q, want it to list %s", corsHeaders, h)
		}
	}
}

// TestCORSNoOrigins checks that without allowed origins the gateway adds
// no CORS headers at all and answers no preflight.
func TestCORSNoOrigins(t *testing.T) {
	c := newCORS(nil)
	r := peerRequest("OPTIONS", "http://gateway.example/todos", "203.0.113.9:1", "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	if c.handle(w, r) {
		t.Errorf("handle(preflight) with no allowed origins = true, want false")
	}
	if len(w.Header()) != 0 {
		t.Errorf("handle(preflight) with no allowed origins set headers %v, want none", w.Header())
	}
}

// TestGatewayForeignPreflight checks through the whole handler that a
// foreign origin's preflight gets no CORS permission, with or without
// --skip-auth-preflight, while an allowed origin's is answered by the
// gateway itself without a session.
func TestGatewayForeignPreflight(t *testing.T) {
	for _, skip := range []bool{false, true} {
		g := newUnitGateway(t, func(c *Config) {
			c.CORSAllowedOrigins = []string{"http://localhost:3000"}
			c.Upstreams = []string{"static://200"}
			c.SkipAuthPreflight = skip
		})
		r := peerRequest("OPTIONS", "http://gateway.example/todos", "203.0.113.9:1", "Origin", "https://evil.example", "Access-Control-Request-Method", "DELETE")
		w := httptest.NewRecorder()
		g.ServeHTTP(w, r)
		for k := range w.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("skip-auth-preflight %v: foreign preflight got %s: %q", skip, k, w.Header().Values(k))
			}
		}

		r = peerRequest("OPTIONS", "http://gateway.example/todos", "203.0.113.9:1", "Origin", "http://localhost:3000", "Access-Control-Request-Method", "DELETE")
		w = httptest.NewRecorder()
		g.ServeHTTP(w, r)
		if w.Code != http.StatusNoContent || w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Errorf("skip-auth-preflight %v: allowed preflight = %d, ACAO %q; want 204, http://localhost:3000", skip, w.Code, w.Header().Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestCheckCSRF checks that a browser cannot make a signed-in user's
// session act for another site, while same-origin pages, allowed CORS
// origins, safe methods and non-browser clients pass.
func TestCheckCSRF(t *testing.T) {
	c := newCORS([]string{"http://localhost:3000", "HTTPS://App.Example"})
	tests := []struct {
		name   string
		method string
		hdr    []string
		ok     bool
	}{
		{"cross-site POST from a foreign origin", "POST", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, false},
		{"cross-site DELETE from a foreign origin", "DELETE", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, false},
		{"same-site POST from a foreign origin", "POST", []string{"Origin", "http://other.gateway.example", "Sec-Fetch-Site", "same-site"}, false},
		{"old browser POST from a foreign origin", "POST", []string{"Origin", "https://evil.example"}, false},
		{"old browser PUT from a foreign port", "PUT", []string{"Origin", "http://gateway.example:8080"}, false},

		{"same-origin POST", "POST", []string{"Origin", "http://gateway.example", "Sec-Fetch-Site", "same-origin"}, true},
		{"old browser same-origin POST", "POST", []string{"Origin", "http://gateway.example"}, true},
		{"user-initiated POST", "POST", []string{"Sec-Fetch-Site", "none"}, true},
		{"POST from an allowed origin", "POST", []string{"Origin", "http://localhost:3000", "Sec-Fetch-Site", "same-site"}, true},
		{"DELETE from an allowed origin, cross-site", "DELETE", []string{"Origin", "https://app.example", "Sec-Fetch-Site", "cross-site"}, true},
		{"old browser POST from an allowed origin", "POST", []string{"Origin", "http://localhost:3000"}, true},
		{"non-browser POST", "POST", nil, true},

		{"cross-site GET", "GET", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, true},
		{"cross-site HEAD", "HEAD", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, true},
		{"cross-site OPTIONS", "OPTIONS", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := peerRequest(tt.method, "http://gateway.example/todos", "203.0.113.9:1", tt.hdr...)
			err := c.checkCSRF(r)
			if (err == nil) != tt.ok {
				t.Errorf("checkCSRF(%s %q) = %v, want ok %v", tt.method, tt.hdr, err, tt.ok)
			}
		})
	}
}

// TestCheckOriginRefusesEmptyQueryAndFragment checks that an origin with a
// bare "?" or "#" is refused like one with a query or fragment: accepted,
// it could never equal a browser's Origin header, so the setting would be
// silently ignored.
func TestCheckOriginRefusesEmptyQueryAndFragment(t *testing.T) {
	for _, o := range []string{"https://app.example?", "https://app.example#", "https://app.example/?"} {
		if err := checkOrigin(o); err == nil {
			t.Errorf("checkOrigin(%q) = nil, want an error", o)
		}
	}
}
