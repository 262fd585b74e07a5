package gateway_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/gateway"
)

// clock is a test clock that starts at the real time and can be advanced.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// TestRefreshOncePerSession: once the access token has expired, many
// concurrent requests carrying the same cookie cause exactly one refresh,
// all of them succeed, and each gets the re-issued cookie — on
// /oauth2/auth answers too, so nginx can pass it back.
func TestRefreshOncePerSession(t *testing.T) {
	clk := &clock{}
	e := newEnv(t, func(c *gateway.Config) { c.Now = clk.now })
	c := e.signIn(t)
	old := e.sessionCookie(c)
	clk.advance(2 * time.Hour) // past the access token's expiry

	const n = 20
	var wg sync.WaitGroup
	codes := make([]int, n)
	cookies := make([]string, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", e.gw.URL+"/oauth2/auth", nil)
			req.AddCookie(old)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes[i] = res.StatusCode
			for _, ck := range res.Cookies() {
				if ck.Name == old.Name && ck.Value != "" {
					cookies[i] = ck.Value
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		if codes[i] != http.StatusAccepted {
			t.Errorf("request %d after expiry = %d, want 202 (refreshed)", i, codes[i])
		}
		if cookies[i] == "" || cookies[i] == old.Value {
			t.Errorf("request %d got no re-issued session cookie", i)
		}
	}
	if got := e.refreshes.Load(); got != 1 {
		t.Errorf("%d refresh-token redemptions for one session, want exactly 1", got)
	}
	// The new cookie works without another refresh.
	req, _ := http.NewRequest("GET", e.gw.URL+"/oauth2/auth", nil)
	req.AddCookie(&http.Cookie{Name: old.Name, Value: cookies[0]})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted || e.refreshes.Load() != 1 {
		t.Errorf("refreshed cookie: %d with %d refreshes, want 202 and still 1", res.StatusCode, e.refreshes.Load())
	}
	if !strings.Contains(e.logs.String(), "signed in") {
		t.Errorf("no sign-in log line")
	}
}

// TestExpiredWithoutRefreshTokenEndsSession: a session whose token has
// expired and cannot be refreshed is no session.
func TestExpiredSessionFailsWhenRefreshFails(t *testing.T) {
	clk := &clock{}
	e := newEnv(t, func(c *gateway.Config) { c.Now = clk.now })
	c := e.signIn(t)
	e.failRefresh.Store(true)
	ck := e.sessionCookie(c)
	req, _ := http.NewRequest("GET", e.gw.URL+"/oauth2/auth", nil)
	req.AddCookie(ck)
	res, _ := http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("fresh session = %d, want 202", res.StatusCode)
	}
	clk.advance(2 * time.Hour)
	req, _ = http.NewRequest("GET", e.gw.URL+"/oauth2/auth", nil)
	req.AddCookie(ck)
	res, _ = http.DefaultClient.Do(req)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired session whose refresh fails = %d, want 401", res.StatusCode)
	}
	if strings.Contains(e.logs.String(), ck.Value[:40]) {
		t.Errorf("the log contains the session cookie")
	}
}
