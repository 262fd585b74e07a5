package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"gatehouse/internal/session"
)

// refresher makes sure a session's tokens are refreshed once, however many
// requests carry the old cookie at the same time. Concurrent requests share
// one call (singleflight by session ID), and for a short grace period after
// it, requests still carrying the old cookie get the same new session
// instead of spending the old refresh token again: providers that rotate
// refresh tokens would refuse that, and oauth2-proxy signs the user out
// there (#1992).
type refresher struct {
	group singleflight.Group
	mu    sync.Mutex
	// recent maps session ID + hash of the refresh token that was spent
	// to the result, for refreshGrace.
	recent map[string]refreshResult
}

type refreshResult struct {
	s   *session.Session
	at  time.Time
	err error
}

const (
	refreshGrace      = 30 * time.Second
	refreshErrorGrace = 5 * time.Second
)

func refreshKey(s *session.Session) string {
	h := sha256.Sum256([]byte(s.RefreshToken))
	return s.ID + ":" + string(h[:8])
}

func (rf *refresher) do(now time.Time, s *session.Session, fn func() (*session.Session, error)) (*session.Session, error) {
	key := refreshKey(s)
	if res, ok := rf.lookup(key, now); ok {
		return res.s, res.err
	}
	v, err, _ := rf.group.Do(key, func() (any, error) {
		// A call that finished just before this one started has already
		// spent the refresh token: use its result.
		if res, ok := rf.lookup(key, now); ok {
			return res.s, res.err
		}
		ns, err := fn()
		rf.mu.Lock()
		defer rf.mu.Unlock()
		for k, res := range rf.recent {
			if now.Sub(res.at) >= refreshGrace {
				delete(rf.recent, k)
			}
		}
		rf.recent[key] = refreshResult{s: ns, at: now, err: err}
		return ns, err
	})
	ns, _ := v.(*session.Session)
	return ns, err
}

// lookup returns a recent result for key: a success for refreshGrace, a
// failure for a few seconds only, so a passing provider error is retried
// soon.
func (rf *refresher) lookup(key string, now time.Time) (refreshResult, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	res, ok := rf.recent[key]
	if !ok {
		return res, false
	}
	age := now.Sub(res.at)
	if res.err != nil {
		return res, age < refreshErrorGrace
	}
	return res, age < refreshGrace
}

// needsRefresh reports whether s should be refreshed now: its tokens have
// expired, or --cookie-refresh says they are old enough.
func (g *Gateway) needsRefresh(s *session.Session, now time.Time) bool {
	if s.RefreshToken == "" {
		return false
	}
	if s.IsExpired(now) {
		return true
	}
	if g.cfg.CookieRefresh <= 0 {
		return false
	}
	last := s.RefreshedAt
	if last.IsZero() {
		last = s.CreatedAt
	}
	return now.Sub(last) >= g.cfg.CookieRefresh
}

// session returns the request's valid session, refreshing its tokens (and
// re-issuing the cookie) when due, or nil when there is none. An error
// means the session store failed.
func (g *Gateway) session(w http.ResponseWriter, r *http.Request) (*session.Session, error) {
	s, err := g.sessions.Load(r)
	if errors.Is(err, session.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := g.now()
	if !g.needsRefresh(s, now) {
		if s.IsExpired(now) {
			return nil, nil // an expired token ends the session
		}
		return s, nil
	}
	ns, err := g.refresh.do(now, s, func() (*session.Session, error) { return g.refreshSession(r.Context(), s) })
	if err != nil {
		g.metrics.refresh("failed")
		g.log.WarnContext(r.Context(), "token refresh failed", "request_id", requestID(r), "session", s.ID, "error", err)
		if s.IsExpired(now) {
			return nil, nil
		}
		return s, nil // still valid; try again on a later request
	}
	if ns == nil { // the refreshed identity is no longer allowed
		g.sessions.Clear(w, r)
		return nil, nil
	}
	if err := g.sessions.Save(w, r, ns); err != nil {
		return nil, err
	}
	return ns, nil
}

// refreshSession redeems the refresh token. The new ID token, if any, is
// verified and the sign-in policy applied again: a user removed from an
// allowed group loses the session at the next refresh. It returns nil,
// nil when the policy now refuses the user.
func (g *Gateway) refreshSession(ctx context.Context, s *session.Session) (*session.Session, error) {
	oc, err := g.provider.oauth2Config("")
	if err != nil {
		return nil, err
	}
	_, verifier, _ := g.provider.ready()
	pctx, cancel := context.WithTimeout(g.provider.ctx(context.WithoutCancel(ctx)), 15*time.Second)
	defer cancel()
	tok, err := oc.TokenSource(pctx, &oauth2.Token{RefreshToken: s.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
	if err != nil {
		return nil, redactErr("refresh", err)
	}
	ns := s.Clone()
	ns.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" {
		ns.RefreshToken = tok.RefreshToken
	}
	ns.ExpiresOn = tok.Expiry
	ns.RefreshedAt = g.now()
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		idt, err := verifier.Verify(pctx, raw)
		if err != nil {
			return nil, redactErr("verify refreshed ID token", err)
		}
		if idt.Subject != s.User {
			return nil, errors.New("refreshed ID token names another subject")
		}
		id, err := g.identity(pctx, idt, tok)
		if err != nil {
			return nil, err
		}
		if g.policy.allow(id.email, id.verified, id.groups) != nil {
			g.metrics.refresh("forbidden")
			return nil, nil
		}
		ns.IDToken, ns.Email, ns.PreferredUsername, ns.Groups = raw, id.email, id.preferredUsername, id.groups
		ns.ExpiresOn = tokenExpiry(tok, idt)
	}
	g.metrics.refresh("success")
	return ns, nil
}

// requireSession returns the request's session, or answers and returns
// nil: a store failure with 503, no session with unauthenticated (which
// differs between forward auth and the proxy). Both count as decisions.
func (g *Gateway) requireSession(w http.ResponseWriter, r *http.Request, unauthenticated func()) *session.Session {
	s, err := g.session(w, r)
	if err != nil {
		g.metrics.decision("error")
		g.fail(w, r, http.StatusServiceUnavailable, msgStore, err)
		return nil
	}
	if s == nil {
		g.metrics.decision("unauthenticated")
		unauthenticated()
	}
	return s
}
