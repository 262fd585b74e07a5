package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/session"
	"gatehouse/internal/session/sessiontest"
)

func newCookieStore(t *testing.T, o sessiontest.Options) session.Store {
	t.Helper()
	c, err := session.NewCodec(o.Secret, session.WithPreviousSecrets(o.PreviousSecrets...), session.WithClock(o.Now))
	if err != nil {
		t.Fatalf("NewCodec = %v", err)
	}
	st, err := session.NewCookieStore(c, session.CookieConfig{Name: o.CookieName, Expire: o.Expire})
	if err != nil {
		t.Fatalf("NewCookieStore = %v", err)
	}
	return st
}

func TestCookieStoreConformance(t *testing.T) { sessiontest.Run(t, newCookieStore) }

func newStore(t *testing.T) session.Store {
	return newCookieStore(t, sessiontest.Options{
		CookieName: session.DefaultCookieName,
		Secret:     []byte("0123456789abcdef"),
		Expire:     time.Hour,
		Now:        time.Now,
	})
}

func bigSession() *session.Session {
	return &session.Session{User: "u", IDToken: strings.Repeat("i", 3000), AccessToken: strings.Repeat("a", 3000)}
}

func save(t *testing.T, st session.Store, r *http.Request, s *session.Session) []*http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := st.Save(rec, r, s); err != nil {
		t.Fatalf("Save = %v", err)
	}
	return rec.Result().Cookies()
}

func names(cookies []*http.Cookie, expired bool) []string {
	var out []string
	for _, c := range cookies {
		if (c.MaxAge < 0) == expired {
			out = append(out, c.Name)
		}
	}
	return out
}

func TestCookieStoreSplitsBigSessions(t *testing.T) {
	st := newStore(t)
	set := save(t, st, httptest.NewRequest(http.MethodGet, "/", nil), bigSession())
	if got := names(set, false); len(got) < 3 || got[0] != "_oauth2_proxy_0" {
		t.Errorf("Save(8 KB session) set %q, want _oauth2_proxy_0, _1, …", got)
	}
}

// TestCookieStoreSaveExpiresLeftovers: what a browser holds from an earlier
// session and the new cookies do not overwrite is expired, and nothing
// else.
func TestCookieStoreSaveExpiresLeftovers(t *testing.T) {
	st := newStore(t)
	tests := []struct {
		name        string
		held        string
		s           *session.Session
		wantSet     []string
		wantExpired []string
	}{
		{"SmallOverParts", "_oauth2_proxy_0=a; _oauth2_proxy_1=b; _oauth2_proxy_2=c; other=x",
			&session.Session{User: "u"}, []string{"_oauth2_proxy"}, []string{"_oauth2_proxy_0", "_oauth2_proxy_1", "_oauth2_proxy_2"}},
		{"PartsOverSingle", "_oauth2_proxy=a; _oauth2_proxy_csrf=c",
			bigSession(), []string{"_oauth2_proxy_0", "_oauth2_proxy_1", "_oauth2_proxy_2"}, []string{"_oauth2_proxy"}},
		{"FewerParts", "_oauth2_proxy_0=a; _oauth2_proxy_1=b; _oauth2_proxy_2=c; _oauth2_proxy_3=d",
			bigSession(), []string{"_oauth2_proxy_0", "_oauth2_proxy_1", "_oauth2_proxy_2"}, []string{"_oauth2_proxy_3"}},
		{"NothingHeld", "", &session.Session{User: "u"}, []string{"_oauth2_proxy"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.held != "" {
				r.Header.Set("Cookie", tt.held)
			}
			set := save(t, st, r, tt.s)
			if got := names(set, false); strings.Join(got, ",") != strings.Join(tt.wantSet, ",") {
				t.Errorf("Save set %q, want %q", got, tt.wantSet)
			}
			if got := names(set, true); strings.Join(got, ",") != strings.Join(tt.wantExpired, ",") {
				t.Errorf("Save expired %q, want %q", got, tt.wantExpired)
			}
		})
	}
}

func TestCookieStoreRefusesHugeSessions(t *testing.T) {
	st := newStore(t)
	s := &session.Session{IDToken: strings.Repeat("x", 70_000)}
	rec := httptest.NewRecorder()
	err := st.Save(rec, httptest.NewRequest(http.MethodGet, "/", nil), s)
	if err == nil || !strings.Contains(err.Error(), "server-side session store") {
		t.Errorf("Save(70 KB session) = %v, want an error pointing to a server-side store", err)
	}
	if len(rec.Result().Cookies()) != 0 {
		t.Error("a failed Save set cookies")
	}
}

func TestNewCookieStoreValidates(t *testing.T) {
	c, err := session.NewCodec([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := session.NewCookieStore(c, session.CookieConfig{Name: "bad name"}); err == nil {
		t.Error("NewCookieStore(bad name) = nil error")
	}
	if _, err := session.NewCookieStore(nil, session.CookieConfig{}); err == nil {
		t.Error("NewCookieStore(nil codec) = nil error")
	}
}
