package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"gatehouse/internal/web"
)

func newHandler(t *testing.T, cfg web.Config) http.Handler {
	t.Helper()
	h, err := web.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) = %v", cfg, err)
	}
	return h
}

func get(h http.Handler, path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var session = &http.Cookie{Name: "_oauth2_proxy", Value: "sealed-by-the-gateway"}

func TestPagesWithoutSessionRedirectToLogin(t *testing.T) {
	h := newHandler(t, web.Config{})
	tests := []struct {
		name, path string
		cookies    []*http.Cookie
		want       int
		location   string
	}{
		{"list without cookie", "/", nil, http.StatusFound, "/login"},
		{"headers without cookie", "/headers", nil, http.StatusFound, "/login"},
		{"empty cookie is no cookie", "/", []*http.Cookie{{Name: "_oauth2_proxy", Value: ""}}, http.StatusFound, "/login"},
		{"another cookie is no cookie", "/", []*http.Cookie{{Name: "_oauth2_proxy_csrf", Value: "x"}}, http.StatusFound, "/login"},
		{"list with cookie", "/", []*http.Cookie{session}, http.StatusOK, ""},
		{"headers with cookie", "/headers", []*http.Cookie{session}, http.StatusOK, ""},
		{"split session", "/", []*http.Cookie{{Name: "_oauth2_proxy_0", Value: "part"}, {Name: "_oauth2_proxy_1", Value: "part"}}, http.StatusOK, ""},
		{"login without cookie", "/login", nil, http.StatusOK, ""},
		// A cookie the gateway no longer accepts must not send the
		// visitor back to / (which would loop).
		{"login with cookie", "/login", []*http.Cookie{session}, http.StatusOK, ""},
		{"unknown path", "/nope", nil, http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := get(h, tt.path, tt.cookies...)
			if w.Code != tt.want || w.Header().Get("Location") != tt.location {
				t.Errorf("GET %s = %d Location %q, want %d %q", tt.path, w.Code, w.Header().Get("Location"), tt.want, tt.location)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("GET %s Cache-Control = %q, want no-store", tt.path, cc)
			}
		})
	}
}

func TestConfiguredCookieName(t *testing.T) {
	h := newHandler(t, web.Config{CookieName: "gh_session"})
	if w := get(h, "/", session); w.Code != http.StatusFound {
		t.Errorf("GET / with _oauth2_proxy under --cookie-name=gh_session = %d, want 302", w.Code)
	}
	if w := get(h, "/", &http.Cookie{Name: "gh_session", Value: "v"}); w.Code != http.StatusOK {
		t.Errorf("GET / with gh_session = %d, want 200", w.Code)
	}
}

func TestPagesCarryTheConfiguredURLs(t *testing.T) {
	h := newHandler(t, web.Config{APIURL: "https://api.example.com/", PublicURL: "https://todo.example.com"})
	tests := []struct {
		path string
		want []string
	}{
		{"/", []string{
			`data-page="todos"`,
			`data-api-url="https://api.example.com"`,
			`href="https://api.example.com/oauth2/sign_out?rd=https%3A%2F%2Ftodo.example.com%2Flogin"`,
			`<label for="add-title">`,
			`role="alert"`,
			`role="status"`,
			`id="empty"`,
		}},
		{"/headers", []string{
			`data-page="headers"`,
			`data-api-url="https://api.example.com"`,
			`GET https://api.example.com/headers`,
			`id="headers"`,
		}},
		{"/login", []string{
			`href="https://api.example.com/oauth2/start?rd=https%3A%2F%2Ftodo.example.com%2F"`,
			`>Sign in</a>`,
		}},
		{"/login?expired=1", []string{"Your session has ended"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := get(h, tt.path, session)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d", tt.path, w.Code)
			}
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s lacks %q:\n%s", tt.path, s, body)
				}
			}
			if strings.Contains(body, "<script>") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) || strings.Contains(body, "style=") {
				t.Errorf("GET %s has inline script or style, which the CSP refuses:\n%s", tt.path, body)
			}
		})
	}
	if body := get(h, "/login", session).Body.String(); strings.Contains(body, "Sign out") || strings.Contains(body, "Your session has ended") {
		t.Errorf("GET /login shows Sign out or the expiry notice without ?expired")
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	h := newHandler(t, web.Config{APIURL: "http://localhost:8080"})
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' http://localhost:8080; " +
			"img-src 'self' data:; form-action 'self' http://localhost:8080; frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	}
	for _, path := range []string{"/", "/headers", "/login", "/nope", "/static/app.js", "/healthz"} {
		w := get(h, path, session)
		got := map[string]string{}
		for k := range want {
			got[k] = w.Header().Get(k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s security headers (-want +got):\n%s", path, diff)
		}
	}
}

func TestStaticAssets(t *testing.T) {
	h := newHandler(t, web.Config{})
	page := get(h, "/", session).Body.String()
	tests := []struct {
		name, ctype string
	}{
		{"app.js", "text/javascript; charset=utf-8"},
		{"app.css", "text/css; charset=utf-8"},
		{"favicon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := regexp.MustCompile(`"(/static/` + regexp.QuoteMeta(tt.name) + `\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("the list page does not link %s with a version", tt.name)
			}
			w := get(h, m[1])
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != tt.ctype {
				t.Fatalf("GET %s = %d %q, want 200 %q", m[1], w.Code, w.Header().Get("Content-Type"), tt.ctype)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("GET %s Cache-Control = %q, want immutable for a year", m[1], cc)
			}
			if w.Body.Len() == 0 {
				t.Errorf("GET %s: empty body", m[1])
			}
			// Without the current version the file must be revalidated,
			// and revalidation by ETag works.
			w = get(h, "/static/"+tt.name)
			if cc := w.Header().Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("GET /static/%s Cache-Control = %q, want no-cache", tt.name, cc)
			}
			r := httptest.NewRequest("GET", "/static/"+tt.name, nil)
			r.Header.Set("If-None-Match", w.Header().Get("ETag"))
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, r)
			if rw.Code != http.StatusNotModified {
				t.Errorf("GET /static/%s If-None-Match its ETag = %d, want 304", tt.name, rw.Code)
			}
		})
	}
	if w := get(h, "/static/missing.js"); w.Code != http.StatusNotFound {
		t.Errorf("GET /static/missing.js = %d, want 404", w.Code)
	}
}

// TestScriptBuildsNoHTML keeps the page script from ever parsing data as
// HTML: it builds the DOM with createElement and text.
func TestScriptBuildsNoHTML(t *testing.T) {
	h := newHandler(t, web.Config{})
	js := get(h, "/static/app.js").Body.String()
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
	for _, need := range []string{`credentials: "include"`, `"If-Match"`, "/login?expired=1", "/headers"} {
		if !strings.Contains(js, need) {
			t.Errorf("app.js lacks %s", need)
		}
	}
}

func TestBadConfigNamesTheSetting(t *testing.T) {
	tests := []struct {
		name string
		cfg  web.Config
		want []string
	}{
		{"relative API URL", web.Config{APIURL: "localhost:8080"}, []string{"--api-url", "http://localhost:8080"}},
		{"API URL with query", web.Config{APIURL: "http://gw/?x=1"}, []string{"--api-url", "no user, query or fragment"}},
		{"ftp public URL", web.Config{PublicURL: "ftp://todo"}, []string{"--public-url"}},
		{"public URL with path", web.Config{PublicURL: "http://localhost:3000/app"}, []string{"--public-url", "no path"}},
		{"cookie name with space", web.Config{CookieName: "my cookie"}, []string{"--cookie-name"}},
		{"every problem at once", web.Config{APIURL: "x", PublicURL: "y", CookieName: "a;b"},
			[]string{"--api-url", "--public-url", "--cookie-name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := web.New(tt.cfg)
			if err == nil {
				t.Fatalf("New(%+v) = nil error, want one naming %v", tt.cfg, tt.want)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("New(%+v) = %q, want it to mention %q", tt.cfg, err, s)
				}
			}
		})
	}
}

func TestWarnsWhenTheCookieCannotReachTheClient(t *testing.T) {
	tests := []struct {
		api, public string
		warn        bool
	}{
		{"http://localhost:8080", "http://localhost:3000", false},
		{"http://127.0.0.1:8080", "http://localhost:3000", true},
		{"https://api.example.com", "https://todo.example.com", false},
		{"https://example.com", "https://todo.example.com", false},
		{"https://api.example.com", "https://todo.example.org", true},
	}
	for _, tt := range tests {
		var logs bytes.Buffer
		newHandler(t, web.Config{APIURL: tt.api, PublicURL: tt.public, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if got := strings.Contains(logs.String(), "level=WARN"); got != tt.warn {
			t.Errorf("New(api %s, public %s) warned = %v, want %v; log: %s", tt.api, tt.public, got, tt.warn, logs.String())
		}
	}
}

func TestHealthz(t *testing.T) {
	w := get(newHandler(t, web.Config{}), "/healthz")
	body, _ := io.ReadAll(w.Body)
	if w.Code != http.StatusOK || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("GET /healthz = %d %s", w.Code, body)
	}
}
