package gateway

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNewReportsEveryProblem checks that one New call names every knob
// that needs fixing, by its flag name, instead of one per attempt.
func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(Config{
		Upstreams:          []string{"ftp://todo-api:8000"},
		CORSAllowedOrigins: []string{"https://*.example.com"},
		WhitelistDomains:   []string{"https://evil.example/path"},
	})
	if err == nil {
		t.Fatal("New(empty config with bad values) = nil error, want every problem")
	}
	msg := err.Error()
	for _, knob := range []string{
		"--client-id",
		"--client-secret",
		"--cookie-secret",
		"--email-domain",
		"--upstream",
		"--cors-allowed-origin",
		"--whitelist-domain",
	} {
		if !strings.Contains(msg, knob) {
			t.Errorf("New error does not mention %s:\n%s", knob, msg)
		}
	}
	for _, value := range []string{"ftp://todo-api:8000", "https://*.example.com", "https://evil.example/path"} {
		if !strings.Contains(msg, value) {
			t.Errorf("New error does not quote the bad value %q:\n%s", value, msg)
		}
	}
}

// TestNewProblems checks single problems, each by the knob it names.
func TestNewProblems(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" for no error
	}{
		{"valid", func(*Config) {}, ""},
		{"authenticated emails instead of domains", func(c *Config) { c.EmailDomains = nil; c.AuthenticatedEmails = []string{"a@example.com"} }, ""},
		{"unknown provider", func(c *Config) { c.Provider = "github" }, "--provider"},
		{"oidc without an issuer", func(c *Config) { c.Provider = "oidc"; c.IssuerURL = "" }, "--oidc-issuer-url"},
		{"issuer not a URL", func(c *Config) { c.IssuerURL = "idp.example" }, "--oidc-issuer-url"},
		{"redirect URL relative", func(c *Config) { c.RedirectURL = "/oauth2/callback" }, "--redirect-url"},
		{"bad cookie name", func(c *Config) { c.Cookie.Name = "bad name" }, "--cookie-name"},
		{"no email domains", func(c *Config) { c.EmailDomains = nil }, "--email-domain"},
		{"bad whitelist entry", func(c *Config) { c.WhitelistDomains = []string{"evil.example/x"} }, "--whitelist-domain"},
		{"bad CORS origin", func(c *Config) { c.CORSAllowedOrigins = []string{"localhost:3000"} }, "--cors-allowed-origin"},
		{"bad upstream", func(c *Config) { c.Upstreams = []string{"todo-api:8000"} }, "--upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := minimalConfig(t)
			tt.mutate(&cfg)
			_, err := New(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("New() = %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("New() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// TestProviderDefaults checks oauth2-proxy's defaults: Google without an
// issuer URL, any OpenID provider with one.
func TestProviderDefaults(t *testing.T) {
	tests := []struct {
		name         string
		provider     string
		issuer       string
		wantProvider string
		wantIssuer   string
	}{
		{"nothing set: google", "", "", "google", "https://accounts.google.com"},
		{"issuer set: oidc", "", "https://idp.example/realms/x", "oidc", "https://idp.example/realms/x"},
		{"google named", "google", "", "google", "https://accounts.google.com"},
		{"oidc named", "oidc", "https://idp.example", "oidc", "https://idp.example"},
		{"google with its own issuer", "google", "https://accounts.google.com", "google", "https://accounts.google.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newUnitGateway(t, func(c *Config) { c.Provider = tt.provider; c.IssuerURL = tt.issuer })
			if g.cfg.Provider != tt.wantProvider || g.cfg.IssuerURL != tt.wantIssuer || g.provider.issuer != tt.wantIssuer {
				t.Errorf("New(provider %q, issuer %q): provider %q, issuer %q (provider's %q); want %q, %q",
					tt.provider, tt.issuer, g.cfg.Provider, g.cfg.IssuerURL, g.provider.issuer, tt.wantProvider, tt.wantIssuer)
			}
		})
	}
}

// TestConfigDefaults checks the other documented zero-value defaults.
func TestConfigDefaults(t *testing.T) {
	g := newUnitGateway(t, nil)
	if diff := cmp.Diff([]string{"openid", "email", "profile"}, g.cfg.Scopes); diff != "" {
		t.Errorf("default Scopes mismatch (-want +got):\n%s", diff)
	}
	if g.cfg.GroupsClaim != "groups" {
		t.Errorf("default GroupsClaim = %q, want groups", g.cfg.GroupsClaim)
	}
	if g.cfg.UpstreamTimeout <= 0 {
		t.Errorf("default UpstreamTimeout = %v, want positive", g.cfg.UpstreamTimeout)
	}
	if len(g.cfg.TrustedProxies) != 0 {
		t.Errorf("TrustedProxies without ReverseProxy = %v, want none", g.cfg.TrustedProxies)
	}
	g = newUnitGateway(t, func(c *Config) { c.ReverseProxy = true })
	if len(g.cfg.TrustedProxies) == 0 {
		t.Errorf("TrustedProxies with ReverseProxy = none, want the private networks")
	}
}

// TestParseUpstreams checks oauth2-proxy's upstream forms and routing by
// the longest matching prefix.
func TestParseUpstreams(t *testing.T) {
	type route struct {
		path string
		want string // upstream name and prefix, "" for no upstream
	}
	tests := []struct {
		name   string
		raw    []string
		routes []route
	}{
		{
			name:   "one upstream serves everything",
			raw:    []string{"http://todo-api:8000"},
			routes: []route{{"/", "http://todo-api:8000 /"}, {"/todos/1", "http://todo-api:8000 /"}},
		},
		{
			name: "longest prefix wins, whatever the order",
			raw:  []string{"http://web:80/", "http://api:8000/api/", "http://admin:9000/api/admin/"},
			routes: []route{
				{"/", "http://web:80 /"},
				{"/index.html", "http://web:80 /"},
				{"/api/", "http://api:8000 /api/"},
				{"/api/todos", "http://api:8000 /api/"},
				{"/api", "http://api:8000 /api/"}, // without its slash
				{"/api/admin/users", "http://admin:9000 /api/admin/"},
				{"/api/administrator", "http://api:8000 /api/"},
				{"/apiary", "http://web:80 /"},
			},
		},
		{
			name:   "no catch-all",
			raw:    []string{"https://api:8443/api/"},
			routes: []route{{"/api/x", "https://api:8443 /api/"}, {"/", ""}, {"/other", ""}},
		},
		{
			name:   "static upstream",
			raw:    []string{"static://202"},
			routes: []route{{"/", "static /"}, {"/anything", "static /"}},
		},
		{
			name:   "static upstream with a path beside a proxy",
			raw:    []string{"http://api:8000", "static://204/health/"},
			routes: []route{{"/health/x", "static /health/"}, {"/x", "http://api:8000 /"}},
		},
		{
			name:   "file upstream with a path",
			raw:    []string{"file:///var/www#/static/", "http://api:8000"},
			routes: []route{{"/static/app.js", "file /static/"}, {"/todos", "http://api:8000 /"}},
		},
		{
			name:   "file upstream without a path",
			raw:    []string{"file:///var/www"},
			routes: []route{{"/index.html", "file /"}},
		},
		{
			name:   "none",
			raw:    nil,
			routes: []route{{"/", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ups, err := parseUpstreams(tt.raw)
			if err != nil {
				t.Fatalf("parseUpstreams(%q) = %v", tt.raw, err)
			}
			for _, rt := range tt.routes {
				got := ""
				if up := ups.match(rt.path); up != nil {
					got = up.name + " " + up.prefix
				}
				if got != rt.want {
					t.Errorf("parseUpstreams(%q).match(%q) = %q, want %q", tt.raw, rt.path, got, rt.want)
				}
			}
		})
	}
}

// TestParseUpstreamKeepsPath checks that an http upstream's path is the
// prefix it serves, not a path to rewrite to: /api/todos goes to
// http://api:8000/api/todos.
func TestParseUpstreamKeepsPath(t *testing.T) {
	up, err := parseUpstream("http://api:8000/api/")
	if err != nil {
		t.Fatal(err)
	}
	if up.prefix != "/api/" || up.target.String() != "http://api:8000" {
		t.Errorf("parseUpstream(http://api:8000/api/) = prefix %q, target %q; want /api/, http://api:8000", up.prefix, up.target)
	}

	seen := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen <- r.URL.RequestURI() }))
	defer api.Close()
	g := newUnitGateway(t, func(c *Config) { c.Upstreams = []string{api.URL + "/api/"} })
	up = g.upstreams.match("/api/todos")
	r := httptest.NewRequest("GET", "http://gateway.example/api/todos?done=1", nil)
	w := httptest.NewRecorder()
	up.handler.ServeHTTP(w, r)
	select {
	case got := <-seen:
		if got != "/api/todos?done=1" {
			t.Errorf("upstream %s/api/ received %q, want /api/todos?done=1", api.URL, got)
		}
	default:
		t.Errorf("GET /api/todos = %d, and the upstream received nothing", w.Code)
	}
}

// TestParseUpstreamFiles checks that file:// and static:// upstreams
// answer by themselves.
func TestParseUpstreamFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		upstream   string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"file://" + dir + "#/static/", "/static/hello.txt", http.StatusOK, "hello"},
		{"file://" + dir + "#/static/", "/static/missing.txt", http.StatusNotFound, ""},
		{"file://" + dir, "/hello.txt", http.StatusOK, "hello"},
		{"static://202", "/anything", http.StatusAccepted, "Authenticated"},
		{"static://404", "/", http.StatusNotFound, "Authenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.upstream+" "+tt.path, func(t *testing.T) {
			up, err := parseUpstream(tt.upstream)
			if err != nil {
				t.Fatalf("parseUpstream(%q) = %v", tt.upstream, err)
			}
			w := httptest.NewRecorder()
			up.handler.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.wantStatus || (tt.wantBody != "" && w.Body.String() != tt.wantBody) {
				t.Errorf("parseUpstream(%q) GET %s = %d %q, want %d %q", tt.upstream, tt.path, w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

// TestParseUpstreamFileRelative checks that a relative file:// directory,
// which oauth2-proxy serves relative to its working directory (everything
// after "file://" and before "#"), is served from there — or refused — and
// never silently turned into another, absolute, directory.
func TestParseUpstreamFileRelative(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "site", "www"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site", "www", "hello.txt"), []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	const raw = "file://site/www#/static/"
	up, err := parseUpstream(raw)
	if err != nil {
		return // refusing the form is fine too
	}
	w := httptest.NewRecorder()
	up.handler.ServeHTTP(w, httptest.NewRequest("GET", "/static/hello.txt", nil))
	if w.Code != http.StatusOK || w.Body.String() != "hello" {
		t.Errorf("parseUpstream(%q) GET /static/hello.txt = %d %q, want 200 \"hello\" from ./site/www (or a parse error)", raw, w.Code, w.Body)
	}
}

func TestParseUpstreamsRefused(t *testing.T) {
	tests := []struct {
		name string
		raw  []string
		want []string // substrings of the error
	}{
		{"duplicate catch-all", []string{"http://a:1", "http://b:2/"}, []string{`"http://b:2/"`, "already served"}},
		{"duplicate path", []string{"http://a:1/api/", "static://202/api/"}, []string{`"static://202/api/"`, "/api/"}},
		{"no scheme", []string{"todo-api:8000"}, []string{`"todo-api:8000"`}},
		{"bare host", []string{"todo-api"}, []string{`"todo-api"`}},
		{"ftp", []string{"ftp://todo-api"}, []string{`"ftp"`}},
		{"unix socket", []string{"unix:///run/api.sock"}, []string{`"unix"`}},
		{"websocket", []string{"ws://todo-api:8000"}, []string{`"ws"`}},
		{"no host", []string{"http://"}, []string{"no host"}},
		{"no host with a path", []string{"http:///api/"}, []string{"no host"}},
		{"credentials", []string{"http://user:pw@todo-api:8000"}, []string{"credentials"}},
		{"file without a directory", []string{"file://"}, []string{"no directory"}},
		{"static without a code", []string{"static://"}, []string{"static://CODE"}},
		{"static with a word", []string{"static://ok"}, []string{"static://CODE"}},
		{"static with a bad code", []string{"static://99"}, []string{"static://CODE"}},
		{"static with a code too large", []string{"static://600"}, []string{"static://CODE"}},
		{"not a URL", []string{"http://[::1"}, []string{"not a URL"}},
		{"every bad one reported", []string{"ftp://a", "http://ok:1", "gopher://b"}, []string{`"ftp://a"`, `"gopher://b"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ups, err := parseUpstreams(tt.raw)
			if err == nil {
				t.Fatalf("parseUpstreams(%q) = %v, nil; want an error", tt.raw, ups)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("parseUpstreams(%q) = %v, want it to mention %s", tt.raw, err, want)
				}
			}
			if !strings.Contains(err.Error(), "--upstream") {
				t.Errorf("parseUpstreams(%q) = %v, want it to name --upstream", tt.raw, err)
			}
		})
	}
}

// TestParseUpstreamsRedactsCredentials checks that an upstream URL's
// password never reaches the error output, which goes to the terminal and
// to logs (STYLE.md: never log secrets).
func TestParseUpstreamsRedactsCredentials(t *testing.T) {
	_, err := parseUpstreams([]string{"http://user:hunter2@todo-api:8000"})
	if err == nil {
		t.Fatal("parseUpstreams(URL with credentials) = nil error, want one")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("parseUpstreams(URL with credentials) = %q, which contains the password", err)
	}
}
