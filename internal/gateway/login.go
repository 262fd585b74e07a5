package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"gatehouse/internal/session"
)

// loginState travels in the CSRF cookie (sealed, HttpOnly) between
// /oauth2/start and /oauth2/callback. Only State goes to the provider: the
// nonce, the PKCE verifier and the redirect target never leave the
// browser-server pair in clear text (oauth2-proxy puts rd inside state).
type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	RD       string `json:"r"`
}

// loginTimeout bounds how long a user may take at the provider.
const loginTimeout = 15 * time.Minute

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// start answers /oauth2/start?rd=URL: it begins the authorization-code
// flow with state, PKCE (S256) and a nonce.
func (g *Gateway) start(w http.ResponseWriter, r *http.Request) {
	g.beginLogin(w, r, g.appRedirect(r))
}

func (g *Gateway) beginLogin(w http.ResponseWriter, r *http.Request, rd string) {
	oc, err := g.provider.oauth2Config(g.callbackURL(r))
	if err != nil {
		g.metrics.login("provider_unavailable")
		g.fail(w, r, http.StatusServiceUnavailable, msgProviderDown, err)
		return
	}
	st := loginState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), RD: rd}
	plain, _ := json.Marshal(st)
	sealed, err := g.codec.SealBytes(g.cfg.Cookie.CSRFName(), plain)
	if err != nil {
		g.fail(w, r, http.StatusInternalServerError, msgInternal, err)
		return
	}
	http.SetCookie(w, g.csrfCookie(sealed, int(loginTimeout/time.Second)))
	noStore(w)
	http.Redirect(w, r, oc.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// csrfCookie is the login-state cookie. It is Lax so that it comes back
// on the provider's top-level redirect to the callback.
func (g *Gateway) csrfCookie(value string, maxAge int) *http.Cookie {
	c := g.cfg.Cookie
	path := c.Path
	if path == "" {
		path = "/"
	}
	return &http.Cookie{
		Name:     c.CSRFName(),
		Value:    value,
		Path:     path,
		Domain:   c.Domain,
		MaxAge:   maxAge,
		Secure:   !c.Insecure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// callback answers /oauth2/callback. Unlike oauth2-proxy, it checks state
// against the CSRF cookie before spending the code, so a forged callback
// never reaches the provider.
func (g *Gateway) callback(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		g.metrics.login("provider_error")
		http.SetCookie(w, g.csrfCookie("", -1))
		g.fail(w, r, http.StatusForbidden, "The identity provider did not sign you in ("+safeCode(e)+").", errors.New("provider error "+safeCode(e)))
		return
	}
	c, err := r.Cookie(g.cfg.Cookie.CSRFName())
	if err != nil {
		g.metrics.login("no_login_state")
		g.fail(w, r, http.StatusForbidden, msgLoginState, errors.New("callback without CSRF cookie"))
		return
	}
	http.SetCookie(w, g.csrfCookie("", -1)) // one use only
	plain, err := g.codec.OpenBytes(g.cfg.Cookie.CSRFName(), c.Value, loginTimeout)
	var st loginState
	if err == nil {
		err = json.Unmarshal(plain, &st)
	}
	if err != nil {
		g.metrics.login("bad_login_state")
		g.fail(w, r, http.StatusForbidden, msgLoginState, err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		g.metrics.login("state_mismatch")
		g.fail(w, r, http.StatusForbidden, msgLoginState, errors.New("state does not match the CSRF cookie"))
		return
	}
	code := q.Get("code")
	if code == "" {
		g.metrics.login("no_code")
		g.fail(w, r, http.StatusBadRequest, "The identity provider sent no authorization code. Sign in again.", errors.New("callback without code"))
		return
	}
	s, status, msg, err := g.redeem(r.Context(), r, code, st)
	if err != nil {
		g.fail(w, r, status, msg, err)
		return
	}
	if err := g.sessions.Save(w, r, s); err != nil {
		g.metrics.login("session_store_error")
		g.fail(w, r, http.StatusServiceUnavailable, msgStore, err)
		return
	}
	g.metrics.login("success")
	g.log.InfoContext(r.Context(), "signed in", "request_id", requestID(r), "user", s.User, "email", s.Email, "session", s.ID)
	http.Redirect(w, r, st.RD, http.StatusFound)
}

// redeem exchanges the code (with the PKCE verifier), verifies the ID
// token (signature by the provider's JWKS, issuer, audience, expiry,
// nonce), applies the sign-in policy and builds the session.
func (g *Gateway) redeem(ctx context.Context, r *http.Request, code string, st loginState) (*session.Session, int, string, error) {
	oc, err := g.provider.oauth2Config(g.callbackURL(r))
	if err != nil {
		g.metrics.login("provider_unavailable")
		return nil, http.StatusServiceUnavailable, msgProviderDown, err
	}
	_, verifier, _ := g.provider.ready()
	pctx, cancel := context.WithTimeout(g.provider.ctx(ctx), 20*time.Second)
	defer cancel()
	tok, err := oc.Exchange(pctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		g.metrics.login("exchange_failed")
		return nil, http.StatusBadGateway, "The identity provider did not accept the sign-in. Sign in again.", redactErr("exchange code", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		g.metrics.login("no_id_token")
		return nil, http.StatusBadGateway, "The identity provider returned no ID token.", errors.New("token response without id_token")
	}
	idt, err := verifier.Verify(pctx, raw)
	if err != nil {
		g.metrics.login("invalid_id_token")
		return nil, http.StatusForbidden, "The identity provider's ID token could not be verified.", redactErr("verify ID token", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		g.metrics.login("nonce_mismatch")
		return nil, http.StatusForbidden, "The identity provider's ID token could not be verified.", errors.New("ID token nonce does not match")
	}
	id, err := g.identity(pctx, idt, tok)
	if err != nil {
		g.metrics.login("invalid_claims")
		return nil, http.StatusForbidden, "The identity provider's ID token could not be read.", err
	}
	if err := g.policy.allow(id.email, id.verified, id.groups); err != nil {
		g.metrics.login("forbidden")
		g.log.InfoContext(ctx, "sign-in refused", "request_id", requestID(r), "user", id.subject, "email", id.email, "reason", err.Error())
		return nil, http.StatusForbidden, "You signed in, but " + err.Error() + ".", err
	}
	sid, err := session.NewID(nil)
	if err != nil {
		return nil, http.StatusInternalServerError, msgInternal, err
	}
	now := g.now()
	s := &session.Session{
		ID:                sid,
		User:              id.subject,
		Email:             id.email,
		PreferredUsername: id.preferredUsername,
		Groups:            id.groups,
		IDToken:           raw,
		AccessToken:       tok.AccessToken,
		RefreshToken:      tok.RefreshToken,
		CreatedAt:         now,
		ExpiresOn:         tokenExpiry(tok, idt),
	}
	return s, 0, "", nil
}

// tokenExpiry is when the session's tokens need refreshing: the earlier
// of the access token's and the ID token's expiry. The ID token is what
// --set-authorization-header and --pass-authorization-header hand on, so
// it must not outlive its own exp (oauth2-proxy's OIDC provider also uses
// the ID token's expiry).
func tokenExpiry(tok *oauth2.Token, idt *oidc.IDToken) time.Time {
	switch {
	case tok.Expiry.IsZero():
		return idt.Expiry
	case idt == nil || idt.Expiry.IsZero() || tok.Expiry.Before(idt.Expiry):
		return tok.Expiry
	}
	return idt.Expiry
}

// identity is what the gateway keeps of the provider's claims.
type identity struct {
	subject, email, preferredUsername string
	verified                          bool
	groups                            []string
}

// identity reads the ID token's claims, asking the userinfo endpoint for
// the email when the ID token has none (as oauth2-proxy does).
func (g *Gateway) identity(ctx context.Context, idt *oidc.IDToken, tok *oauth2.Token) (identity, error) {
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return identity{}, err
	}
	id := identity{subject: idt.Subject}
	str := func(name string) string {
		var s string
		json.Unmarshal(claims[name], &s)
		return s
	}
	id.email = str("email")
	id.preferredUsername = str("preferred_username")
	id.verified = truthy(claims["email_verified"])
	id.groups = groupsClaim(claims[g.cfg.GroupsClaim])
	if id.email == "" && tok.AccessToken != "" {
		op, _, err := g.provider.ready()
		if err == nil {
			if ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
				id.email, id.verified = ui.Email, ui.EmailVerified
			}
		}
	}
	if !cleanHeaderValue(id.subject) || !cleanHeaderValue(id.email) || !cleanHeaderValue(id.preferredUsername) {
		return identity{}, errors.New("a claim holds control characters")
	}
	return id, nil
}

// truthy reads email_verified, which some providers send as a string.
func truthy(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && strings.EqualFold(s, "true")
}

// groupsClaim reads a groups claim that is a list or a single string,
// dropping values that could not travel in a header.
func groupsClaim(raw json.RawMessage) []string {
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil || one == "" {
			return nil
		}
		list = []string{one}
	}
	out := list[:0]
	for _, g := range list {
		if g != "" && cleanHeaderValue(g) && !strings.Contains(g, ",") {
			out = append(out, g)
		}
	}
	return out
}

// cleanHeaderValue reports whether s can be sent as a header value as is.
func cleanHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			return false
		}
	}
	return len(s) <= 1024
}

// safeCode keeps an OAuth error code printable and short.
func safeCode(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return "unknown_error"
		}
	}
	return s
}

// redactErr keeps oauth2 errors out of responses and strips response
// bodies (which may echo codes or tokens) from the log.
func redactErr(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = re.Response.Status
		}
		return errors.New(what + ": provider answered " + safeCode(strings.ReplaceAll(code, " ", "_")))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New(what + ": " + ue.Op + " failed: " + ue.Err.Error())
	}
	return errors.New(what + ": " + err.Error())
}

func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
