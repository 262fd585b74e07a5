package session

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newRequest returns a request with the given Cookie header lines.
func newRequest(cookieLines ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://app.example.test/", nil)
	for _, l := range cookieLines {
		r.Header.Add("Cookie", l)
	}
	return r
}

// value returns a cookie-safe value of n bytes.
func value(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[i%64])
	}
	return b.String()
}

func TestSplit(t *testing.T) {
	cfg := CookieConfig{Domain: "example.test"}
	overhead := len(cfg.withDefaults().cookie(DefaultCookieName, "").String())
	tests := []struct {
		name      string
		valueLen  int
		wantParts int
	}{
		{"Small", 100, 1},
		{"ExactlyAtLimit", MaxCookieSize - overhead, 1},
		{"OneOver", MaxCookieSize - overhead + 1, 2},
		{"Big", 10_000, 3},
		{"Huge", 60_000, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := value(tt.valueLen)
			cookies := cfg.Split(v)
			if len(cookies) != tt.wantParts {
				t.Fatalf("Split(%d bytes) = %d cookies, want %d", tt.valueLen, len(cookies), tt.wantParts)
			}
			var joined strings.Builder
			for i, c := range cookies {
				wantName := DefaultCookieName
				if len(cookies) > 1 {
					wantName += "_" + strconv.Itoa(i)
				}
				if c.Name != wantName {
					t.Errorf("cookie %d name = %q, want %q", i, c.Name, wantName)
				}
				if n := len(c.String()); n > MaxCookieSize {
					t.Errorf("cookie %q renders to %d bytes, want ≤ %d", c.Name, n, MaxCookieSize)
				}
				if i < len(cookies)-1 && len(c.String()) != MaxCookieSize {
					t.Errorf("cookie %q renders to %d bytes, want parts filled to %d", c.Name, len(c.String()), MaxCookieSize)
				}
				joined.WriteString(c.Value)
			}
			if joined.String() != v {
				t.Error("the parts' values do not concatenate to the value")
			}
			// And Join puts them back together.
			r := newRequest()
			for _, c := range cookies {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			if got, ok := cfg.Join(r); !ok || got != v {
				t.Errorf("Join(Split(v)) = (%d bytes, %v), want v", len(got), ok)
			}
		})
	}
}

func TestSplitAttributes(t *testing.T) {
	tests := []struct {
		name string
		cfg  CookieConfig
		want string
	}{
		{"Defaults", CookieConfig{}, "_oauth2_proxy=v; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax"},
		{"Everything", CookieConfig{Name: "gh", Domain: "example.test", Path: "/app", Expire: time.Hour, SameSite: http.SameSiteStrictMode},
			"gh=v; Path=/app; Domain=example.test; Max-Age=3600; HttpOnly; Secure; SameSite=Strict"},
		{"InsecureNoSameSite", CookieConfig{Insecure: true, SameSite: http.SameSiteDefaultMode},
			"_oauth2_proxy=v; Path=/; Max-Age=604800; HttpOnly"},
		{"BrowserSession", CookieConfig{Expire: -1}, "_oauth2_proxy=v; Path=/; HttpOnly; Secure; SameSite=Lax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.Split("v")
			if len(got) != 1 || got[0].String() != tt.want {
				t.Errorf("Split(v) = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestJoin(t *testing.T) {
	tests := []struct {
		name   string
		lines  []string
		want   string
		wantOK bool
	}{
		{"None", nil, "", false},
		{"Unrelated", []string{"a=1; b=2"}, "", false},
		{"Single", []string{"a=1; _oauth2_proxy=abc; b=2"}, "abc", true},
		{"SingleOnly", []string{"_oauth2_proxy=abc"}, "abc", true},
		{"Whitespace", []string{"  a=1 ;\t_oauth2_proxy=abc  ;b=2"}, "abc", true},
		{"Quoted", []string{`_oauth2_proxy="abc"`}, "abc", true},
		{"ValueBytesNotChecked", []string{`_oauth2_proxy=a\b; _oauth2_proxy=ok`}, `a\b`, true},
		{"FirstWins", []string{"_oauth2_proxy=first; _oauth2_proxy=second"}, "first", true},
		{"SeveralHeaderLines", []string{"a=1", "_oauth2_proxy=abc"}, "abc", true},
		{"EmptySingle", []string{"_oauth2_proxy="}, "", false},
		{"Parts", []string{"_oauth2_proxy_1=def; x=y; _oauth2_proxy_0=abc; _oauth2_proxy_2=gh"}, "abcdefgh", true},
		{"PartsOverLines", []string{"_oauth2_proxy_0=abc", "_oauth2_proxy_1=def"}, "abcdef", true},
		{"SingleWinsOverParts", []string{"_oauth2_proxy_0=abc; _oauth2_proxy=single; _oauth2_proxy_1=def"}, "single", true},
		{"Gap", []string{"_oauth2_proxy_0=abc; _oauth2_proxy_2=ghi"}, "", false},
		{"NoPartZero", []string{"_oauth2_proxy_1=abc"}, "", false},
		{"LeadingZeroIgnored", []string{"_oauth2_proxy_0=abc; _oauth2_proxy_01=def"}, "abc", true},
		{"CSRFIgnored", []string{"_oauth2_proxy_csrf=abc"}, "", false},
		{"OtherSuffixIgnored", []string{"_oauth2_proxy_x=abc; _oauth2_proxyy=abc"}, "", false},
		{"SixteenParts", []string{joinedParts(16)}, strings.Repeat("p", 16), true},
		{"SeventeenParts", []string{joinedParts(17)}, "", false},
		{"FarIndex", []string{"_oauth2_proxy_0=abc; _oauth2_proxy_400=x"}, "", false},
		{"DuplicatePartFirstWins", []string{"_oauth2_proxy_0=abc; _oauth2_proxy_0=zzz; _oauth2_proxy_1=def"}, "abcdef", true},
		{"EmptyParts", []string{"_oauth2_proxy_0=; _oauth2_proxy_1="}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := CookieConfig{}.Join(newRequest(tt.lines...))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Join(%q) = (%q, %v), want (%q, %v)", tt.lines, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func joinedParts(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, DefaultCookieName+"_"+strconv.Itoa(i)+"=p")
	}
	return strings.Join(parts, "; ")
}

// TestJoinAgreesWithNetHTTP: for a single cookie, Join finds what
// r.Cookie finds.
func TestJoinAgreesWithNetHTTP(t *testing.T) {
	lines := []string{
		"_oauth2_proxy=abc",
		`x=1;_oauth2_proxy="q"`,
		"_oauth2_proxy=a b; _oauth2_proxy=c",
		"_oauth2_proxy = spaced",
		"=; ;;_oauth2_proxy=x=y",
	}
	for _, line := range lines {
		r := newRequest(line)
		want, err := r.Cookie(DefaultCookieName)
		got, ok := CookieConfig{}.Join(r)
		if (err == nil) != ok || (ok && got != want.Value) {
			t.Errorf("Join(%q) = (%q, %v), r.Cookie = (%v, %v)", line, got, ok, want, err)
		}
	}
}

func TestJoinAllocations(t *testing.T) {
	r := newRequest("_ga=GA1.2.3; theme=dark; _oauth2_proxy=" + value(3000) + "; _gid=GA1.2.4")
	allocs := testing.AllocsPerRun(100, func() {
		if _, ok := (CookieConfig{}).Join(r); !ok {
			t.Fatal("Join found no cookie")
		}
	})
	if allocs != 0 {
		t.Errorf("Join of a single cookie allocates %v times, want 0", allocs)
	}
}

func TestClear(t *testing.T) {
	cfg := CookieConfig{Domain: "example.test", Path: "/app"}
	rec := httptest.NewRecorder()
	cfg.Clear(rec, newRequest("_oauth2_proxy_0=a; other=1; _oauth2_proxy_1=b; _oauth2_proxy_csrf=c", "_oauth2_proxy_1=dup; _oauth2_proxy_20=z"))
	var got []string
	for _, c := range rec.Result().Cookies() {
		got = append(got, c.Name)
		if c.MaxAge >= 0 || c.Value != "" || c.Path != "/app" || c.Domain != "example.test" {
			t.Errorf("clearing cookie %s, want empty, expired, path /app, domain example.test", c.String())
		}
	}
	want := []string{"_oauth2_proxy", "_oauth2_proxy_0", "_oauth2_proxy_1", "_oauth2_proxy_20"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Clear expired (-want +got):\n%s", diff)
	}
}

func TestIsSessionCookie(t *testing.T) {
	tests := []struct {
		cfg  CookieConfig
		name string
		want bool
	}{
		{CookieConfig{}, "_oauth2_proxy", true},
		{CookieConfig{}, "_oauth2_proxy_0", true},
		{CookieConfig{}, "_oauth2_proxy_15", true},
		{CookieConfig{}, "_oauth2_proxy_csrf", true},
		{CookieConfig{}, "_oauth2_proxy_csrf_ab12cd3", true},
		{CookieConfig{}, "_oauth2_proxy_", false},
		{CookieConfig{}, "_oauth2_proxy_x", false},
		{CookieConfig{}, "_oauth2_proxy_01", false},
		{CookieConfig{}, "_oauth2_proxyx", false},
		{CookieConfig{}, "_oauth2_prox", false},
		{CookieConfig{}, "session", false},
		{CookieConfig{Name: "gh"}, "gh_3", true},
		{CookieConfig{Name: "gh"}, "_oauth2_proxy", false},
	}
	for _, tt := range tests {
		if got := tt.cfg.IsSessionCookie(tt.name); got != tt.want {
			t.Errorf("CookieConfig{Name: %q}.IsSessionCookie(%q) = %v, want %v", tt.cfg.Name, tt.name, got, tt.want)
		}
	}
	if got := (CookieConfig{}).CSRFName(); got != "_oauth2_proxy_csrf" {
		t.Errorf("CSRFName() = %q, want _oauth2_proxy_csrf", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     CookieConfig
		wantErr string // substring; "" means valid
	}{
		{"Zero", CookieConfig{}, ""},
		{"Full", CookieConfig{Name: "gh", Domain: "example.test", Path: "/", Expire: time.Hour, SameSite: http.SameSiteNoneMode}, ""},
		{"BadName", CookieConfig{Name: "a b"}, "--cookie-name"},
		{"LongName", CookieConfig{Name: strings.Repeat("n", 250)}, "at most"},
		{"BadPath", CookieConfig{Path: "/a;b"}, "--cookie-path"},
		{"NoneNeedsSecure", CookieConfig{Insecure: true, SameSite: http.SameSiteNoneMode}, "SameSite=None"},
		{"SecurePrefix", CookieConfig{Name: "__Secure-gh", Insecure: true}, "__Secure-"},
		{"HostPrefixDomain", CookieConfig{Name: "__Host-gh", Domain: "example.test"}, "__Host-"},
		{"HostPrefixOK", CookieConfig{Name: "__Host-gh"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// BenchmarkJoin measures finding the session cookie among a few others.
func BenchmarkJoin(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(strconv.Itoa(n)+"parts", func(b *testing.B) {
			cfg := CookieConfig{}
			r := newRequest("_ga=GA1.2.3; theme=dark")
			for _, c := range cfg.Split(value(n*MaxCookieSize - 500)) {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := cfg.Join(r); !ok {
					b.Fatal("no cookie")
				}
			}
		})
	}
	b.Run("netHTTPCookie", func(b *testing.B) {
		r := newRequest("_ga=GA1.2.3; theme=dark; _oauth2_proxy=" + value(3000) + "; _gid=GA1.2.4")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Cookie(DefaultCookieName); err != nil {
				b.Fatal(err)
			}
		}
	})
}
