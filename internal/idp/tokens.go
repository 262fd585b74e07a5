package idp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Tokens. Access tokens are opaque to clients (the library encrypts
// "id:subject" into them) and are looked up here by id. Refresh tokens
// are random strings, stored only as their SHA-256.
//
// Every code exchange starts a family: the access and refresh tokens that
// descend from one sign-in. Refresh tokens rotate: using one marks it
// used and returns a new one in the same family. A used refresh token
// presented again means two parties hold it (one of them stole it), so
// the whole family is revoked (OAuth 2.0 Security BCP, RFC 9700 section
// 4.14.2). Used tokens are remembered until they would have expired.

type accessToken struct {
	id       string
	family   string
	clientID string
	subject  string
	scopes   []string
	expires  time.Time
}

type refreshToken struct {
	family   string
	clientID string
	subject  string
	scopes   []string
	amr      []string
	authTime time.Time
	expires  time.Time
	used     bool
}

// refreshRequest is what the library gets for a refresh token: a copy,
// whose scopes the client may narrow. It is an op.RefreshTokenRequest.
type refreshRequest struct {
	t      refreshToken
	scopes []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.t.amr }
func (r *refreshRequest) GetAudience() []string            { return []string{r.t.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.authTime }
func (r *refreshRequest) GetClientID() string              { return r.t.clientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// familyLocked returns the token family of a code exchange, starting it.
func (s *store) familyLocked(a *authRequest) string {
	fam := randomID()
	if stored := s.requests[a.id]; stored != nil {
		stored.family = fam
	}
	return fam
}

func (s *store) newAccessLocked(family, clientID, subject string, scopes []string, now time.Time) *accessToken {
	t := &accessToken{id: randomID(), family: family, clientID: clientID, subject: subject,
		scopes: slices.Clone(scopes), expires: now.Add(AccessTokenLifetime)}
	s.access[t.id] = t
	return t
}

func (s *store) newRefreshLocked(t refreshToken, now time.Time) string {
	raw := randomID()
	t.used = false
	t.expires = now.Add(RefreshTokenLifetime)
	s.refresh[tokenHash(raw)] = &t
	return raw
}

// CreateAccessToken issues an access token for a code exchange without
// offline_access.
func (s *store) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	a, ok := req.(*authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	t := s.newAccessLocked(s.familyLocked(a), a.clientID, a.subject, a.scopes, now)
	return t.id, t.expires, nil
}

// CreateAccessAndRefreshTokens issues tokens for a code exchange with
// offline_access (current is empty), or rotates the refresh token current.
func (s *store) CreateAccessAndRefreshTokens(_ context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweepLocked(now)
	if current == "" {
		a, ok := req.(*authRequest)
		if !ok {
			return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
		}
		fam := s.familyLocked(a)
		at := s.newAccessLocked(fam, a.clientID, a.subject, a.scopes, now)
		rt := s.newRefreshLocked(refreshToken{family: fam, clientID: a.clientID, subject: a.subject,
			scopes: slices.Clone(a.scopes), amr: a.GetAMR(), authTime: a.authTime}, now)
		return at.id, rt, at.expires, nil
	}
	old, err := s.usableRefreshLocked(current, now)
	if err != nil {
		return "", "", time.Time{}, err
	}
	old.used = true
	scopes := old.scopes
	if rr, ok := req.(*refreshRequest); ok {
		scopes = rr.scopes // narrowed by the request; the new refresh token keeps the old scope (RFC 6749 section 6)
	}
	at := s.newAccessLocked(old.family, old.clientID, old.subject, scopes, now)
	rt := s.newRefreshLocked(*old, now)
	return at.id, rt, at.expires, nil
}

// usableRefreshLocked returns the refresh token, or an error; a reused
// one revokes its family.
func (s *store) usableRefreshLocked(token string, now time.Time) (*refreshToken, error) {
	t := s.refresh[tokenHash(token)]
	switch {
	case t == nil:
		return nil, errors.New("unknown or revoked refresh token")
	case !now.Before(t.expires):
		return nil, errors.New("refresh token expired")
	case t.used:
		n := s.revokeFamilyLocked(t.family)
		s.log.Warn("refresh token used twice: revoked every token of that sign-in",
			"client_id", t.clientID, "user", t.subject, "revoked_tokens", n)
		return nil, errors.New("refresh token already used; the sign-in's tokens are revoked")
	}
	return t, nil
}

// TokenRequestByRefreshToken checks a refresh token before the library
// issues new tokens for it.
func (s *store) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.usableRefreshLocked(token, s.now())
	if err != nil {
		return nil, err
	}
	c := *t
	c.scopes, c.amr = slices.Clone(t.scopes), slices.Clone(t.amr)
	return &refreshRequest{t: c, scopes: slices.Clone(t.scopes)}, nil
}

// revokeFamilyLocked deletes every token of a family and reports how many.
func (s *store) revokeFamilyLocked(family string) int {
	n := 0
	for id, t := range s.access {
		if t.family == family {
			delete(s.access, id)
			n++
		}
	}
	for h, t := range s.refresh {
		if t.family == family {
			delete(s.refresh, h)
			n++
		}
	}
	return n
}

// validAccess returns a copy of a live access token of subject.
func (s *store) validAccess(id, subject string) (accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.access[id]
	if t == nil || t.subject != subject || !s.now().Before(t.expires) {
		return accessToken{}, errors.New("access token is not valid")
	}
	c := *t
	c.scopes = slices.Clone(t.scopes)
	return c, nil
}

// TerminateSession revokes a user's tokens for a client (end_session).
func (s *store) TerminateSession(_ context.Context, subject, clientID string) error {
	if subject == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.access {
		if t.subject == subject && t.clientID == clientID {
			delete(s.access, id)
		}
	}
	for h, t := range s.refresh {
		if t.subject == subject && t.clientID == clientID {
			delete(s.refresh, h)
		}
	}
	return nil
}

// RevokeToken revokes an access token by id, or a refresh token (by its
// hash, from GetRefreshTokenInfo, or as sent) with its whole family, as
// RFC 7009 section 2.1 suggests. Unknown tokens succeed: the outcome the
// client wanted holds.
func (s *store) RevokeToken(_ context.Context, tokenOrID, _ string, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.access[tokenOrID]; t != nil {
		if t.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
		}
		delete(s.access, tokenOrID)
		return nil
	}
	t := s.refresh[tokenOrID]
	if t == nil {
		t = s.refresh[tokenHash(tokenOrID)]
	}
	if t == nil {
		return nil
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	s.revokeFamilyLocked(t.family)
	return nil
}

// GetRefreshTokenInfo tells the revocation endpoint whether token is a
// refresh token of this client.
func (s *store) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := tokenHash(token)
	t := s.refresh[h]
	if t == nil || t.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.subject, h, nil
}
