package idp

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// store is what the token library keeps and asks for (op.Storage): the
// pending sign-ins, the authorization codes, the access and refresh
// tokens (tokens.go), the clients, the users' claims and the signing keys.
// The state lives in memory under one mutex; it belongs to one Provider
// (there is no package-level state). Expired entries are swept on writes.
//
// Values handed to the library are copies, so it can read them while the
// login page completes the stored originals.
type store struct {
	clients map[string]*client
	users   *directory
	keys    *keyring
	now     func() time.Time
	log     *slog.Logger

	mu        sync.Mutex
	requests  map[string]*authRequest  // by id
	codes     map[string]codeGrant     // by code
	spent     map[string]spentCode     // codes already exchanged, by code
	access    map[string]*accessToken  // by token id
	refresh   map[string]*refreshToken // by tokenHash(token)
	lastSweep time.Time
}

var (
	_ op.Storage                   = (*store)(nil)
	_ op.CanSetUserinfoFromRequest = (*store)(nil)
)

// spentCodeRetention is how long an exchanged code is remembered, so that
// a second use revokes what the first one got (RFC 6749 section 4.1.2).
const spentCodeRetention = 10 * time.Minute

type codeGrant struct {
	requestID string
	issued    time.Time
}

type spentCode struct {
	requestID string // the sign-in the code was issued for
	family    string
	until     time.Time
}

// maxPendingRequests bounds the sign-ins waiting for a login: anyone can
// start one, so without a bound they could fill memory for LoginTimeout.
const maxPendingRequests = 2000

func newStore(clients map[string]*client, users *directory, keys *keyring, now func() time.Time, log *slog.Logger) *store {
	return &store{
		clients:  clients,
		users:    users,
		keys:     keys,
		now:      now,
		log:      log,
		requests: map[string]*authRequest{},
		codes:    map[string]codeGrant{},
		spent:    map[string]spentCode{},
		access:   map[string]*accessToken{},
		refresh:  map[string]*refreshToken{},
	}
}

// randomID returns 256 random bits, base64url: auth request ids, token
// ids and refresh tokens are all unguessable.
func randomID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// authRequest is one sign-in in progress, from /authorize to the code
// exchange. It is an op.AuthRequest.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	loginHint    string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge

	// Set by the login page.
	done     bool
	subject  string
	authTime time.Time
	// family names the tokens issued for this request's code, so a
	// second use of the code can revoke them.
	family string
}

var (
	_ op.AuthRequest    = (*authRequest)(nil)
	_ op.LogAuthRequest = (*authRequest)(nil)
)

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAudience() []string { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// GetAMR says how the user signed in: with a password (RFC 8176).
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}

// LogValue keeps the id (a bearer of the sign-in), state and nonce out of
// the library's logs.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", a.clientID), slog.String("redirect_uri", a.redirectURI))
}

func (a *authRequest) copy() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	return &c
}

// CreateAuthRequest stores a validated authorization request (authorize.go
// has already checked the client, the redirect URI and PKCE; the checks
// here are a second line).
func (s *store) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c := s.clients[req.ClientID]
	if c == nil {
		return nil, errors.New("unknown client")
	}
	if !slices.Contains(c.redirectURIs, req.RedirectURI) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	if err := checkPKCE(c, req); err != nil {
		return nil, err
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired().WithDescription("this provider keeps no sign-in session, so prompt=none always needs a login")
	}
	now := s.now()
	a := &authRequest{
		id:           randomID(),
		created:      now,
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		loginHint:    req.LoginHint,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
	}
	if req.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if len(s.requests) >= maxPendingRequests {
		s.lastSweep = time.Time{}
		s.sweepLocked(now)
		if len(s.requests) >= maxPendingRequests {
			return nil, oidc.ErrServerError().WithDescription("too many sign-ins in progress; try again in a minute")
		}
	}
	s.requests[a.id] = a
	return a.copy(), nil
}

// checkPKCE requires S256 from public clients, and refuses "plain" from
// everyone: it protects nothing against an attacker who sees the request.
func checkPKCE(c *client, req *oidc.AuthRequest) error {
	if req.CodeChallenge == "" {
		if c.public {
			return oidc.ErrInvalidRequest().WithDescription("PKCE is required for this public client: send code_challenge with code_challenge_method=S256")
		}
		return nil
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	return nil
}

// pendingLocked returns the stored request with id if it has not expired.
func (s *store) pendingLocked(id string, now time.Time) *authRequest {
	a := s.requests[id]
	if a == nil || a.expired(now) {
		return nil
	}
	return a
}

// expired reports whether the user took too long to sign in, or the
// client to exchange the code after.
func (a *authRequest) expired(now time.Time) bool {
	if a.done {
		return now.Sub(a.authTime) >= CodeLifetime
	}
	return now.Sub(a.created) >= LoginTimeout
}

// pending returns a copy of the sign-in in progress with id.
func (s *store) pending(id string) (*authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.pendingLocked(id, s.now())
	if a == nil {
		return nil, false
	}
	return a.copy(), true
}

// complete marks the sign-in with id as done by subject. It reports
// false when the request has expired or is gone.
func (s *store) complete(id, subject string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	a := s.pendingLocked(id, now)
	if a == nil {
		return false
	}
	a.done, a.subject, a.authTime = true, subject, now
	return true
}

func (s *store) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.pendingLocked(id, s.now())
	if a == nil {
		return nil, errors.New("sign-in request not found or expired")
	}
	return a.copy(), nil
}

// AuthRequestByCode returns the request a code was issued for. A code
// that was already exchanged revokes every token the first exchange got:
// someone else has it too.
func (s *store) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if sc, ok := s.spent[code]; ok && now.Before(sc.until) {
		delete(s.spent, code)
		family := sc.family
		if a := s.requests[sc.requestID]; family == "" && a != nil {
			family = a.family // the first exchange is still under way or just done
		}
		n := s.revokeFamilyLocked(family)
		s.log.Warn("authorization code used twice: revoked the tokens it was exchanged for", "revoked_tokens", n)
		return nil, errors.New("code already used")
	}
	g, ok := s.codes[code]
	if !ok || now.Sub(g.issued) >= CodeLifetime {
		return nil, errors.New("code unknown or expired")
	}
	a := s.pendingLocked(g.requestID, now)
	if a == nil || !a.done {
		return nil, errors.New("code's sign-in request not found or expired")
	}
	// The code is spent now, under the lock: a second exchange running
	// at the same time finds it spent, not valid.
	delete(s.codes, code)
	s.spent[code] = spentCode{requestID: g.requestID, until: now.Add(spentCodeRetention)}
	return a.copy(), nil
}

func (s *store) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	a := s.pendingLocked(id, now)
	if a == nil || !a.done {
		return errors.New("sign-in request not found, expired or not signed in")
	}
	s.codes[code] = codeGrant{requestID: id, issued: now}
	return nil
}

// DeleteAuthRequest is called once the code has been exchanged: the
// request and its codes go; the codes are remembered as spent.
func (s *store) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	a := s.requests[id]
	delete(s.requests, id)
	for code, g := range s.codes {
		if g.requestID == id {
			delete(s.codes, code)
			s.spent[code] = spentCode{requestID: id, until: now.Add(spentCodeRetention)}
		}
	}
	if a != nil {
		for code, sc := range s.spent {
			if sc.requestID == id && sc.family == "" {
				sc.family = a.family
				s.spent[code] = sc
			}
		}
	}
	return nil
}

// sweepLocked drops what has expired, at most once a minute.
func (s *store) sweepLocked(now time.Time) {
	if now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for id, a := range s.requests {
		if a.expired(now) {
			delete(s.requests, id)
		}
	}
	for code, g := range s.codes {
		if now.Sub(g.issued) >= CodeLifetime {
			delete(s.codes, code)
		}
	}
	for code, sc := range s.spent {
		if !now.Before(sc.until) {
			delete(s.spent, code)
		}
	}
	for id, t := range s.access {
		if !now.Before(t.expires) {
			delete(s.access, id)
		}
	}
	for h, t := range s.refresh {
		if !now.Before(t.expires) {
			delete(s.refresh, h)
		}
	}
}

// GetClientByClientID returns a registered client; an unknown one is a
// plain error (the library answers invalid_client).
func (s *store) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	c := s.clients[id]
	if c == nil {
		return nil, errors.New("unknown client")
	}
	return c, nil
}

func (s *store) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	c := s.clients[id]
	if c == nil {
		return errors.New("unknown client")
	}
	if !c.checkSecret(secret) {
		return errors.New("wrong client secret")
	}
	return nil
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest
// fills the ID token's claims.
func (s *store) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims by scope.
func (s *store) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.users.claims(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint for a valid access
// token, with the claims of the scopes it was issued for.
func (s *store) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.validAccess(tokenID, subject)
	if err != nil {
		return err
	}
	return s.users.claims(info, subject, t.scopes)
}

// SetIntrospectionFromToken answers the introspection endpoint: active
// only for the client the token was issued to.
func (s *store) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.validAccess(tokenID, subject)
	if err != nil {
		return err
	}
	if t.clientID != clientID {
		return errors.New("token was issued to another client")
	}
	info := new(oidc.UserInfo)
	if err := s.users.claims(info, subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *store) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

var errJWTProfile = errors.New("JWT profile grants are not supported")

func (s *store) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errJWTProfile
}

func (s *store) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errJWTProfile
}

func (s *store) SigningKey(context.Context) (op.SigningKey, error) { return s.keys.signing(), nil }

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *store) KeySet(context.Context) ([]op.Key, error) { return s.keys.published(), nil }

func (s *store) Health(context.Context) error { return nil }
