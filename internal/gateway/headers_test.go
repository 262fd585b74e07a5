package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/internal/session"
)

// TestStripIdentity checks that a client cannot hand an upstream an
// identity of its own choosing in any spelling a server might fold into an
// identity header (CVE-2025-64484: X_Forwarded_User read as
// X-Forwarded-User).
func TestStripIdentity(t *testing.T) {
	tests := []struct {
		name          string
		in            http.Header // raw keys, as a client may send them
		authorization bool
		want          http.Header
	}{
		{
			name: "canonical identity headers",
			in: http.Header{
				"X-Forwarded-User":               {"admin"},
				"X-Forwarded-Email":              {"admin@example.com"},
				"X-Forwarded-Groups":             {"admins"},
				"X-Forwarded-Preferred-Username": {"admin"},
				"X-Forwarded-Access-Token":       {"forged"},
				"Gap-Auth":                       {"admin@example.com"},
				"Gap-Signature":                  {"sha1 forged"},
				"X-Real-Ip":                      {"10.0.0.1"},
				"Accept":                         {"application/json"},
			},
			want: http.Header{"Accept": {"application/json"}},
		},
		{
			name: "case variants",
			in: http.Header{
				"x-forwarded-user":   {"admin"},
				"X-FORWARDED-EMAIL":  {"admin@example.com"},
				"x-Forwarded-Groups": {"admins"},
				"GAP-Auth":           {"admin@example.com"},
				"gap-auth":           {"admin@example.com"},
				"X-Real-IP":          {"10.0.0.1"},
				"x-real-ip":          {"10.0.0.2"},
				"Content-Type":       {"application/json"},
			},
			want: http.Header{"Content-Type": {"application/json"}},
		},
		{
			name: "underscore variants",
			in: http.Header{
				"X_Forwarded_User":               {"admin"},
				"x_forwarded_email":              {"admin@example.com"},
				"X-Forwarded_Groups":             {"admins"},
				"X_FORWARDED_PREFERRED_USERNAME": {"admin"},
				"x_forwarded_access_token":       {"forged"},
				"GAP_Auth":                       {"admin@example.com"},
				"X_Real_IP":                      {"10.0.0.1"},
				"Accept_Language":                {"en"},
			},
			// Accept_Language is not an identity header: only identity
			// names are folded.
			want: http.Header{"Accept_Language": {"en"}},
		},
		{
			name: "x-auth-request headers in any spelling",
			in: http.Header{
				"X-Auth-Request-User":         {"admin"},
				"x_auth_request_email":        {"admin@example.com"},
				"X-AUTH-REQUEST-GROUPS":       {"admins"},
				"X_Auth_Request_Redirect":     {"https://evil.example/"},
				"X-Auth-Request-Access-Token": {"forged"},
				"X-Request-Id":                {"abc"},
			},
			want: http.Header{"X-Request-Id": {"abc"}},
		},
		{
			name: "authorization kept when the gateway does not set it",
			in: http.Header{
				"Authorization":    {"Bearer client-token"},
				"X-Forwarded-User": {"admin"},
			},
			want: http.Header{"Authorization": {"Bearer client-token"}},
		},
		{
			name: "authorization removed when the gateway sets it",
			in: http.Header{
				"Authorization": {"Bearer forged"},
				"authorization": {"Bearer forged"},
				"Accept":        {"*/*"},
			},
			authorization: true,
			want:          http.Header{"Accept": {"*/*"}},
		},
		{
			name: "unrelated headers kept, forwarding headers removed",
			in: http.Header{
				"X-Forwarded-For":   {"203.0.113.7"},
				"X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host":  {"app.example"},
				"X-Forwarded-Userx": {"not an identity header"},
				"X-User":            {"app-specific"},
				"Cookie":            {"a=1", "b=2"},
			},
			// Forwarding headers are the gateway's to set: removed too.
			want: http.Header{
				"X-Forwarded-Userx": {"not an identity header"},
				"X-User":            {"app-specific"},
				"Cookie":            {"a=1", "b=2"},
			},
		},
		{
			name: "empty header",
			in:   http.Header{},
			want: http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.in.Clone()
			stripIdentity(h, tt.authorization)
			if diff := cmp.Diff(tt.want, h); diff != "" {
				t.Errorf("stripIdentity(%v, %v) mismatch (-want +got):\n%s", tt.in, tt.authorization, diff)
			}
		})
	}
}

// TestStripCookies checks that upstreams never see the gateway's own
// cookies (the sealed session, its parts, the CSRF cookie) while every
// other cookie reaches them unchanged and in order.
func TestStripCookies(t *testing.T) {
	tests := []struct {
		name   string
		cookie session.CookieConfig
		in     []string // Cookie header lines
		want   []string // nil: no Cookie header at all
	}{
		{
			name: "only the session cookie",
			in:   []string{"_oauth2_proxy=sealed"},
			want: nil,
		},
		{
			name: "session cookie among others",
			in:   []string{"theme=dark; _oauth2_proxy=sealed; lang=en"},
			want: []string{"theme=dark; lang=en"},
		},
		{
			name: "split session parts and csrf",
			in:   []string{"_oauth2_proxy_0=aaa; a=1; _oauth2_proxy_1=bbb; _oauth2_proxy_2=ccc; _oauth2_proxy_csrf=state; b=2"},
			want: []string{"a=1; b=2"},
		},
		{
			name: "part numbers up to and past the part limit",
			in:   []string{"_oauth2_proxy_9=x; _oauth2_proxy_10=y; _oauth2_proxy_15=z; _oauth2_proxy_16=w; keep=1"},
			want: []string{"keep=1"},
		},
		{
			name: "per-request csrf cookie",
			in:   []string{"_oauth2_proxy_csrf_abc123=state; keep=1"},
			want: []string{"keep=1"},
		},
		{
			name: "many header lines joined in order",
			in:   []string{"a=1; _oauth2_proxy_0=x", "_oauth2_proxy_1=y; b=2", "c=3"},
			want: []string{"a=1; b=2; c=3"},
		},
		{
			name: "many header lines, nothing left",
			in:   []string{"_oauth2_proxy=x", "_oauth2_proxy_csrf=y", "_oauth2_proxy_0=z"},
			want: nil,
		},
		{
			name: "look-alike names kept",
			in:   []string{"_oauth2_proxyx=1; oauth2_proxy=2; _oauth2_proxy_other=3; _OAUTH2_PROXY=4; x_oauth2_proxy=5; _oauth2_proxy_csrfx=6"},
			want: []string{"_oauth2_proxyx=1; oauth2_proxy=2; _oauth2_proxy_other=3; _OAUTH2_PROXY=4; x_oauth2_proxy=5; _oauth2_proxy_csrfx=6"},
		},
		{
			name: "white space and empty pairs tidied",
			in:   []string{" a=1 ;; _oauth2_proxy=x ;  b=2;"},
			want: []string{"a=1; b=2"},
		},
		{
			name: "quoted and valueless cookies kept",
			in:   []string{`q="quoted value"; flag; _oauth2_proxy="sealed"`},
			want: []string{`q="quoted value"; flag`},
		},
		{
			name:   "custom cookie name",
			cookie: session.CookieConfig{Name: "gh_session"},
			in:     []string{"gh_session=x; gh_session_0=y; gh_session_csrf=z; _oauth2_proxy=other-app; keep=1"},
			want:   []string{"_oauth2_proxy=other-app; keep=1"},
		},
		{
			name:   "custom cookie name, nothing left",
			cookie: session.CookieConfig{Name: "gh_session"},
			in:     []string{"gh_session_0=y", "gh_session_1=y"},
			want:   nil,
		},
		{
			name: "no cookie header",
			in:   nil,
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Accept": {"*/*"}}
			if tt.in != nil {
				h["Cookie"] = append([]string(nil), tt.in...)
			}
			stripCookies(h, tt.cookie)
			got, ok := h["Cookie"]
			if tt.want == nil && ok {
				t.Errorf("stripCookies(%q) left Cookie %q, want no Cookie header", tt.in, got)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("stripCookies(%q) Cookie mismatch (-want +got):\n%s", tt.in, diff)
			}
			if a := h.Get("Accept"); a != "*/*" {
				t.Errorf("stripCookies(%q) changed Accept to %q, want */*", tt.in, a)
			}
		})
	}
}

// TestForwardHeadersReplaceEverySpelling checks that a client's
// X-Forwarded-For, -Host and -Proto are replaced in every spelling a
// server might fold into the same name, as identity headers are
// (CVE-2025-64484's X_Forwarded_User, applied to the addressing headers:
// WSGI and CGI read X_Forwarded_For as HTTP_X_FORWARDED_FOR).
func TestForwardHeadersReplaceEverySpelling(t *testing.T) {
	got := make(chan http.Header, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got <- r.Header.Clone() }))
	defer upstream.Close()
	g := newUnitGateway(t, func(c *Config) { c.Upstreams = []string{upstream.URL} })

	r := peerRequest("GET", "http://gateway.example/todos", "203.0.113.9:5555",
		"X_Forwarded_For", "127.0.0.1",
		"X_Forwarded_Host", "evil.example",
		"X_Forwarded_Proto", "https",
		"x_forwarded_uri", "/admin",
		"X_Forwarded_Method", "DELETE",
		"X-Forwarded-For", "127.0.0.1",
	)
	w := httptest.NewRecorder()
	g.upstreams.match("/todos").handler.ServeHTTP(w, r)
	var h http.Header
	select {
	case h = <-got:
	default:
		t.Fatalf("GET /todos = %d, and the upstream received nothing", w.Code)
	}
	for k, v := range h {
		n := normalizeHeaderName(k)
		switch n {
		case "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-uri", "x-forwarded-method":
			if k != http.CanonicalHeaderKey(n) {
				t.Errorf("upstream received client-supplied %s: %q", k, v)
			}
		}
	}
	if diff := cmp.Diff([]string{"203.0.113.9"}, h.Values("X-Forwarded-For")); diff != "" {
		t.Errorf("upstream X-Forwarded-For mismatch (-want +got):\n%s", diff)
	}
}
