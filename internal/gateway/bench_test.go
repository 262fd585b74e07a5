package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/session"
)

// benchGateway is a gateway with a realistic signed-in session: an ID
// token and access token of typical size, four groups.
func benchGateway(b *testing.B) (*Gateway, *http.Request) {
	codec, err := session.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(Config{
		IssuerURL: "http://127.0.0.1:1", ClientID: "c", ClientSecret: "s",
		EmailDomains: []string{"*"}, Codec: codec, Cookie: session.CookieConfig{Insecure: true},
		Upstreams: []string{"static://200"}, SetXAuthRequest: true, SetAuthorizationHeader: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	s := &session.Session{
		ID: "EWjJyGxMvwLnOnYSkod5qQ", User: "248289761001", Email: "jane.doe@example.com",
		PreferredUsername: "jane.doe", Groups: []string{"engineering", "design", "admins", "oncall"},
		IDToken: "eyJ" + strings.Repeat("x", 1100), AccessToken: "ya29." + strings.Repeat("y", 200),
		RefreshToken: "1//" + strings.Repeat("z", 100), CreatedAt: now, ExpiresOn: now.Add(time.Hour),
	}
	value, err := codec.Seal(session.DefaultCookieName, s)
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/oauth2/auth", nil)
	r.Header.Set("Cookie", "_ga=GA1.2.3; "+session.DefaultCookieName+"="+value+"; theme=dark")
	return g, r
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkSessionCheck is the work done on every proxied or forward-auth
// request to decide whether the caller is signed in: find the cookie,
// open (or find cached) the sealed session, check expiry and refresh.
func BenchmarkSessionCheck(b *testing.B) {
	g, r := benchGateway(b)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		s, err := g.session(w, r)
		if s == nil || err != nil {
			b.Fatalf("session = %v, %v", s, err)
		}
	}
}

// BenchmarkForwardAuth is a whole /oauth2/auth answer (202 with identity
// headers) through the gateway's handler, without the network.
func BenchmarkForwardAuth(b *testing.B) {
	g, r := benchGateway(b)
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: make(http.Header, 8)}
		g.ServeHTTP(w, r)
		if w.h.Get("X-Auth-Request-User") == "" {
			b.Fatal("no identity headers: not signed in")
		}
	}
}

// BenchmarkSessionCheckParallel is BenchmarkSessionCheck on every core.
func BenchmarkSessionCheckParallel(b *testing.B) {
	g, r := benchGateway(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			if s, _ := g.session(w, r); s == nil {
				b.Error("not signed in")
				return
			}
		}
	})
}

// BenchmarkProxy is a signed-in GET through the gateway to an upstream
// over loopback (client → gateway → upstream, keep-alive on both hops),
// from two concurrent clients: the whole in-process check plus proxying.
func BenchmarkProxy(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	defer upstream.Close()
	g, r := benchGateway(b)
	up, err := parseUpstreams([]string{upstream.URL})
	if err != nil {
		b.Fatal(err)
	}
	up.list[0].handler = g.reverseProxy(up.list[0], newTransport(g.cfg))
	g.upstreams = up
	srv := httptest.NewServer(g)
	defer srv.Close()
	cookie := r.Header.Get("Cookie")
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = 16
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", srv.URL+"/todos", nil)
			req.Header.Set("Cookie", cookie)
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}
