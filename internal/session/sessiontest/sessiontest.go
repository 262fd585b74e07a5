// Package sessiontest is the conformance suite every session.Store must
// pass. Each store's tests call Run with a function that builds a store
// from the Options a test needs.
//
// The suite drives stores the way a browser does: a Save writes Set-Cookie
// headers into an httptest.ResponseRecorder, a net/http/cookiejar applies
// them (Max-Age, replacement, deletion), and the next request carries the
// jar's cookies.
package sessiontest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gatehouse/internal/session"
)

// Options describe the store a test needs. A store built from them must
// name its cookie CookieName (or, for split cookies, CookieName_n), seal
// under Secret, open what PreviousSecrets sealed, reject cookies issued
// Expire or longer ago, and read the time from Now.
//
// Stores built within one test must share their backing storage (a
// server-side store: the same database), since the suite saves with one
// and loads with another.
type Options struct {
	CookieName      string
	Secret          []byte
	PreviousSecrets [][]byte
	Expire          time.Duration
	Now             func() time.Time
}

// Run runs the suite.
func Run(t *testing.T, newStore func(t *testing.T, o Options) session.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"RoundTrip", testRoundTrip},
		{"NoCookie", testNoCookie},
		{"Tampered", testTampered},
		{"OtherCookieName", testOtherCookieName},
		{"ExpiresByCookieExpire", testExpire},
		{"BigSessionSplitAndRejoined", testBigSession},
		{"ClearExpiresEveryPart", testClear},
		{"SaveReplacesEarlierSession", testReplace},
		{"RotatedSecretStillLoads", testRotation},
		{"ConcurrentLoads", testConcurrentLoads},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, &harness{newStore: newStore, clock: &clock{now: base}})
		})
	}
}

var base = time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)

const (
	cookieName = "_gh_test"
	expire     = time.Hour
	secretA    = "0123456789abcdef0123456789abcdef"
	secretB    = "fedcba9876543210"
	appURL     = "https://app.example.test/some/page"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

type harness struct {
	newStore func(t *testing.T, o Options) session.Store
	clock    *clock
}

// store builds a store with the suite's defaults, changed by edit.
func (h *harness) store(t *testing.T, edit func(o *Options)) session.Store {
	t.Helper()
	o := Options{CookieName: cookieName, Secret: []byte(secretA), Expire: expire, Now: h.clock.Now}
	if edit != nil {
		edit(&o)
	}
	return h.newStore(t, o)
}

// browser is a cookie jar for one user agent.
type browser struct {
	t   *testing.T
	u   *url.URL
	jar *cookiejar.Jar
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookiejar.New = %v", err)
	}
	u, err := url.Parse(appURL)
	if err != nil {
		t.Fatalf("url.Parse(%q) = %v", appURL, err)
	}
	return &browser{t: t, u: u, jar: jar}
}

// request returns a request carrying the browser's cookies, in one Cookie
// header as browsers send them.
func (b *browser) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, appURL, nil)
	for _, c := range b.jar.Cookies(b.u) {
		r.AddCookie(c)
	}
	return r
}

// apply stores the response's Set-Cookie headers and returns them.
func (b *browser) apply(rec *httptest.ResponseRecorder) []*http.Cookie {
	set := rec.Result().Cookies()
	b.jar.SetCookies(b.u, set)
	return set
}

func (b *browser) cookies() []*http.Cookie { return b.jar.Cookies(b.u) }

func (b *browser) save(st session.Store, s *session.Session) []*http.Cookie {
	b.t.Helper()
	return b.apply(b.saveRecorded(st, s))
}

// saveRecorded saves s and returns the response without applying it.
func (b *browser) saveRecorded(st session.Store, s *session.Session) *httptest.ResponseRecorder {
	b.t.Helper()
	rec := httptest.NewRecorder()
	if err := st.Save(rec, b.request(), s); err != nil {
		b.t.Fatalf("Save = %v", err)
	}
	return rec
}

func (b *browser) clear(st session.Store) []*http.Cookie {
	b.t.Helper()
	rec := httptest.NewRecorder()
	if err := st.Clear(rec, b.request()); err != nil {
		b.t.Fatalf("Clear = %v", err)
	}
	return b.apply(rec)
}

func newSession(tokenLen, groups int) *session.Session {
	s := &session.Session{
		ID:                "c2Vzc2lvbi1pZC0xMjM0",
		User:              "248289761001",
		Email:             "jane.doe@example.com",
		PreferredUsername: "jane",
		IDToken:           token("id", tokenLen),
		AccessToken:       token("at", tokenLen),
		RefreshToken:      token("rt", tokenLen/4),
		CreatedAt:         base.Add(-time.Minute),
		ExpiresOn:         base.Add(time.Hour),
		RefreshedAt:       base.Add(-30 * time.Second),
	}
	for i := range groups {
		s.Groups = append(s.Groups, fmt.Sprintf("team-%03d", i))
	}
	return s
}

// token returns a JWT-looking string of n bytes.
func token(prefix string, n int) string {
	var b strings.Builder
	b.WriteString("eyJ" + prefix)
	for i := 0; b.Len() < n; i++ {
		b.WriteByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."[i*7%65])
	}
	return b.String()[:n]
}

func mustLoad(t *testing.T, st session.Store, r *http.Request, want *session.Session) {
	t.Helper()
	got, err := st.Load(r)
	if err != nil {
		t.Fatalf("Load = %v, want the saved session", err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
}

func mustNotLoad(t *testing.T, st session.Store, r *http.Request) {
	t.Helper()
	got, err := st.Load(r)
	if !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Load = (%v, %v), want ErrNoSession", got, err)
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	want := newSession(900, 5)
	set := b.save(st, want)
	if len(set) == 0 {
		t.Fatal("Save set no cookie")
	}
	for _, c := range set {
		if !c.HttpOnly || !c.Secure {
			t.Errorf("cookie %q: HttpOnly=%v Secure=%v, want both", c.Name, c.HttpOnly, c.Secure)
		}
	}
	mustLoad(t, st, b.request(), want)
	// Again: a second load (a cache hit, for a caching store) is the same.
	mustLoad(t, st, b.request(), want)
	// A fresh store over the same storage loads it too (a restarted
	// gateway, or another replica).
	mustLoad(t, h.store(t, nil), b.request(), want)
}

func testNoCookie(t *testing.T, h *harness) {
	st := h.store(t, nil)
	mustNotLoad(t, st, httptest.NewRequest(http.MethodGet, appURL, nil))
	r := httptest.NewRequest(http.MethodGet, appURL, nil)
	r.AddCookie(&http.Cookie{Name: "unrelated", Value: "x"})
	mustNotLoad(t, st, r)
}

func testTampered(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	b.save(st, newSession(300, 2))
	orig := b.cookies()

	flip := func(v string, i int) string {
		c := byte('A')
		if v[i] == 'A' {
			c = 'B'
		}
		return v[:i] + string(c) + v[i+1:]
	}
	tests := []struct {
		name   string
		mutate func(v string) string
	}{
		{"FirstByte", func(v string) string { return flip(v, 0) }},
		{"MiddleByte", func(v string) string { return flip(v, len(v)/2) }},
		{"LastByte", func(v string) string { return flip(v, len(v)-1) }},
		{"Truncated", func(v string) string { return v[:len(v)-4] }},
		{"Extended", func(v string) string { return v + "AAAA" }},
		{"Garbage", func(string) string { return "bm90LWEtc2Vzc2lvbg" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, appURL, nil)
			for _, c := range orig {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: tt.mutate(c.Value)})
			}
			mustNotLoad(t, st, r)
		})
	}
}

// testOtherCookieName moves a value sealed for one cookie name to another
// (as an attacker might move the CSRF cookie into the session cookie).
func testOtherCookieName(t *testing.T, h *harness) {
	st := h.store(t, nil)
	other := h.store(t, func(o *Options) { o.CookieName = cookieName + "_csrf" })
	b := newBrowser(t)
	b.save(st, newSession(300, 2))
	r := httptest.NewRequest(http.MethodGet, appURL, nil)
	for _, c := range b.cookies() {
		r.AddCookie(&http.Cookie{Name: strings.Replace(c.Name, cookieName, cookieName+"_csrf", 1), Value: c.Value})
	}
	mustNotLoad(t, other, r)
	mustLoad(t, st, b.request(), newSession(300, 2)) // the original still works
}

func testExpire(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	want := newSession(300, 2)
	h.clock.Set(base)
	b.save(st, want)

	h.clock.Set(base.Add(expire - time.Second))
	mustLoad(t, st, b.request(), want)
	// The browser still sends the cookie (it may ignore Max-Age, or the
	// cookie may have been copied); the server refuses it anyway, also
	// after having opened it before.
	h.clock.Set(base.Add(expire))
	mustNotLoad(t, st, b.request())
	h.clock.Set(base.Add(30 * 24 * time.Hour))
	mustNotLoad(t, st, b.request())

	// A save re-issues the cookie and restarts its lifetime.
	now := base.Add(30 * 24 * time.Hour)
	b.save(st, want)
	h.clock.Set(now.Add(expire - time.Second))
	mustLoad(t, st, b.request(), want)
}

func testBigSession(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	want := newSession(2500, 120) // ≈ 7 KB of tokens and groups
	rec := b.saveRecorded(st, want)
	lines := rec.Result().Header.Values("Set-Cookie")
	for _, line := range lines {
		if len(line) > 4096 {
			t.Errorf("Set-Cookie of %d bytes, want ≤ 4096 (the browser limit)", len(line))
		}
	}
	b.apply(rec)
	t.Logf("a big session takes %d Set-Cookie headers", len(lines))
	mustLoad(t, st, b.request(), want)
}

func testClear(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	b.save(st, newSession(2500, 120))
	before := b.cookies()
	b.clear(st)
	for _, c := range b.cookies() {
		for _, old := range before {
			if c.Name == old.Name {
				t.Errorf("after Clear the browser still holds %q", c.Name)
			}
		}
	}
	mustNotLoad(t, st, b.request())
	// The old cookies, replayed, must not bring the session back for a
	// server-side store; for a cookie store they would (it cannot revoke),
	// so that is not asserted here.
}

// testReplace saves sessions of changing sizes into one browser: every
// load must return the latest, never a mix with left-over cookies.
func testReplace(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	sizes := []struct{ tokenLen, groups int }{{2500, 120}, {100, 1}, {5000, 200}, {2500, 10}, {50, 0}}
	for i, size := range sizes {
		want := newSession(size.tokenLen, size.groups)
		want.ID = fmt.Sprintf("session-%d", i)
		b.save(st, want)
		mustLoad(t, st, b.request(), want)
	}
}

func testRotation(t *testing.T, h *harness) {
	old := h.store(t, nil)
	rotated := h.store(t, func(o *Options) {
		o.Secret = []byte(secretB)
		o.PreviousSecrets = [][]byte{[]byte(secretA)}
	})
	newOnly := h.store(t, func(o *Options) { o.Secret = []byte(secretB) })

	b := newBrowser(t)
	want := newSession(300, 2)
	b.save(old, want)
	mustLoad(t, rotated, b.request(), want)
	mustNotLoad(t, newOnly, b.request())

	// The rotated store seals under the new secret only.
	b2 := newBrowser(t)
	b2.save(rotated, want)
	mustLoad(t, newOnly, b2.request(), want)
	mustNotLoad(t, old, b2.request())
}

func testConcurrentLoads(t *testing.T, h *harness) {
	st := h.store(t, nil)
	b := newBrowser(t)
	want := newSession(900, 5)
	b.save(st, want)
	var wg sync.WaitGroup
	for range 8 {
		r := b.request()
		wg.Go(func() {
			for range 20 {
				got, err := st.Load(r)
				if err != nil {
					t.Errorf("Load = %v", err)
					return
				}
				if got.ID != want.ID {
					t.Errorf("Load().ID = %q, want %q", got.ID, want.ID)
					return
				}
			}
		})
	}
	wg.Wait()
}
