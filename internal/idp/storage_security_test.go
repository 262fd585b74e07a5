package idp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestSecurityPendingRequestsBounded: GET /authorize needs no
// authentication and stores the request in memory for LoginTimeout. The
// client-chosen strings it keeps are bounded in size, and the number of
// pending requests is capped, so an anonymous client cannot fill memory.
func TestSecurityPendingRequestsBounded(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	p, err := Open(context.Background(), Config{Issuer: issuer, Users: DemoUsers(),
		Clients: []Client{{ID: "web", Secret: "s", RedirectURIs: []string{"http://localhost:8080/oauth2/callback"}}}})
	if err != nil {
		t.Fatal(err)
	}
	h := p.Handler()
	authorize := func(state string) *httptest.ResponseRecorder {
		q := url.Values{"client_id": {"web"}, "redirect_uri": {"http://localhost:8080/oauth2/callback"},
			"response_type": {"code"}, "scope": {"openid"}, "state": {state},
			"code_challenge": {oauth2.S256ChallengeFromVerifier("v")}, "code_challenge_method": {"S256"}}
		r := httptest.NewRequest("POST", "/authorize", strings.NewReader(q.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := authorize(strings.Repeat("A", 8<<10)); w.Code != http.StatusBadRequest {
		t.Errorf("an 8 KB state = %d, want 400", w.Code)
	}
	const n = 3000
	big := strings.Repeat("A", maxParamLen)
	for range n {
		if w := authorize(big); w.Code != http.StatusFound {
			t.Fatalf("authorize = %d: %s", w.Code, w.Body)
		}
	}
	p.store.mu.Lock()
	kept, bytes := len(p.store.requests), 0
	for _, a := range p.store.requests {
		bytes += len(a.state) + len(a.nonce) + len(a.loginHint)
	}
	p.store.mu.Unlock()
	if kept > maxPendingRequests || bytes > maxPendingRequests*maxParamLen {
		t.Errorf("%d anonymous authorization requests kept in memory, holding %d KB of client-chosen strings; nothing bounds either", kept, bytes>>10)
	}
}
