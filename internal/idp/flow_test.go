package idp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"gatehouse/internal/idp"
	"gatehouse/internal/testenv"
)

// rp is a relying party built from clients that are not ours: go-oidc for
// discovery and ID-token verification (signature by the JWKS, issuer,
// audience, expiry), x/oauth2 for the code and refresh-token grants.
type rp struct {
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     *oauth2.Config
}

func newRP(t *testing.T, e *env, clientID, secret, redirect string, scopes ...string) *rp {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), e.url)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{
		provider: provider,
		verifier: provider.Verifier(&oidc.Config{ClientID: clientID}),
		conf: &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(),
			RedirectURL: redirect, Scopes: scopes},
	}
}

// idTokenClaims are the claims the tests look at.
type idTokenClaims struct {
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
}

func oauthErrorCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

func TestCodeFlowPKCENonceRefreshLogout(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID, "email", "profile", "groups", oidc.ScopeOfflineAccess)

	var disc struct {
		EndSession     string   `json:"end_session_endpoint"`
		CodeChallenges []string `json:"code_challenge_methods_supported"`
		Scopes         []string `json:"scopes_supported"`
	}
	if err := r.provider.Claims(&disc); err != nil {
		t.Fatal(err)
	}
	if disc.EndSession != e.url+"/end_session" || !cmp.Equal(disc.CodeChallenges, []string{"S256"}) {
		t.Errorf("discovery: end_session_endpoint %q, code_challenge_methods_supported %v", disc.EndSession, disc.CodeChallenges)
	}

	// Sign in: PKCE S256 and a nonce.
	state, nonce, verifier := "state-1", "nonce-1", oauth2.GenerateVerifier()
	authURL := r.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	back := e.signIn(t, authURL, "Alice@Example.com", "password")
	if got := back.Scheme + "://" + back.Host + back.Path; got != webCallback || back.Query().Get("state") != state {
		t.Fatalf("sign-in returned to %s, want %s with state", back, webCallback)
	}
	code := back.Query().Get("code")

	// A wrong PKCE verifier does not get tokens, and burns the code: a
	// code is good for one exchange attempt, so whoever intercepted it
	// gets one guess and the legitimate client finds out.
	if _, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
		t.Fatal("code exchanged with a wrong PKCE verifier")
	}
	if _, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a code was exchanged after a failed attempt with it")
	}
	back = e.signIn(t, authURL, "Alice@Example.com", "password")
	code = back.Query().Get("code")
	tok, err := r.conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := r.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("ID token nonce = %q, want %q", idt.Nonce, nonce)
	}
	var claims idTokenClaims
	idt.Claims(&claims)
	want := idTokenClaims{Email: "alice@example.com", EmailVerified: true, Name: "Alice", PreferredUsername: "alice", Groups: []string{"admins"}}
	if diff := cmp.Diff(want, claims); diff != "" {
		t.Errorf("ID token claims (-want +got):\n%s", diff)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token with offline_access")
	}

	// Userinfo.
	ui, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uiClaims idTokenClaims
	ui.Claims(&uiClaims)
	if ui.Subject != idt.Subject || diff(want, uiClaims) != "" {
		t.Errorf("userinfo = sub %q %+v, want sub %q %+v", ui.Subject, uiClaims, idt.Subject, want)
	}

	// Refresh rotates the refresh token.
	tok2, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh returned refresh token %q, want a new one", tok2.RefreshToken)
	}
	if raw2, _ := tok2.Extra("id_token").(string); raw2 != "" {
		if _, err := r.verifier.Verify(ctx, raw2); err != nil {
			t.Errorf("refreshed ID token: %v", err)
		}
	}
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err != nil {
		t.Errorf("userinfo with the refreshed access token: %v", err)
	}
	// The used refresh token is refused, and its reuse revokes the chain.
	_, err = r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if code := oauthErrorCode(err); code != "invalid_grant" {
		t.Fatalf("reusing a rotated refresh token: %v (code %q), want invalid_grant", err, code)
	}
	if _, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); oauthErrorCode(err) != "invalid_grant" {
		t.Errorf("the newest refresh token still works after the chain was revoked: %v", err)
	}
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok2)); err == nil {
		t.Errorf("the chain's access token still works after reuse was detected")
	}
	if !strings.Contains(e.logs.String(), "refresh token used twice") {
		t.Errorf("reuse not logged")
	}
	for _, secret := range []string{tok.RefreshToken, tok.AccessToken, code, "password"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("the log contains a secret (%q...)", secret[:min(8, len(secret))])
		}
	}

	// RP-initiated logout: a registered post_logout_redirect_uri is
	// followed, with the state; an unregistered one gets an error page.
	end := func(redirect string) (*http.Response, string) {
		q := url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {redirect}, "state": {"bye"}}
		return get(t, disc.EndSession+"?"+q.Encode())
	}
	res, body := end("https://evil.example/")
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" || !strings.Contains(body, "not registered") {
		t.Errorf("end_session to an unregistered URI = %d Location %q:\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	res, _ = end(webLogout)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != webLogout+"?state=bye" {
		t.Errorf("end_session = %d Location %q, want 302 to %s?state=bye", res.StatusCode, res.Header.Get("Location"), webLogout)
	}
}

func diff(a, b any) string { return cmp.Diff(a, b) }

func TestLogoutRevokesTokens(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID, "email", oidc.ScopeOfflineAccess)
	tok, raw := exchange(t, e, r, "bob@example.com")
	res, body := get(t, e.url+"/end_session?"+url.Values{"id_token_hint": {raw}}.Encode())
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "signed out") {
		t.Fatalf("end_session without a redirect = %d:\n%s", res.StatusCode, body)
	}
	if _, err := r.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Errorf("access token still works after logout")
	}
	if _, err := r.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
		t.Errorf("refresh token still works after logout")
	}
	// Without client_id or id_token_hint the redirect cannot be checked.
	res, _ = get(t, e.url+"/end_session?"+url.Values{"post_logout_redirect_uri": {webLogout}}.Encode())
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
		t.Errorf("end_session with an uncheckable redirect = %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	// With client_id alone it can.
	res, _ = get(t, e.url+"/end_session?"+url.Values{"client_id": {webID}, "post_logout_redirect_uri": {webLogout}}.Encode())
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != webLogout {
		t.Errorf("end_session with client_id = %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// exchange signs email in through r and returns the tokens and ID token.
func exchange(t *testing.T, e *env, r *rp, email string) (*oauth2.Token, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	back := e.signIn(t, r.conf.AuthCodeURL("s", oidc.Nonce("n"), oauth2.S256ChallengeOption(verifier)), email, "password")
	tok, err := r.conf.Exchange(t.Context(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := r.verifier.Verify(t.Context(), raw); err != nil {
		t.Fatalf("verify: %v", err)
	}
	return tok, raw
}

func TestPublicClientNeedsPKCE(t *testing.T) {
	e := newEnv(t, nil)
	r := newRP(t, e, spaID, "", spaCallback, oidc.ScopeOpenID, "profile")
	// Without PKCE: the error goes back to the (registered) redirect URI.
	res, _ := get(t, r.conf.AuthCodeURL("st"))
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "st" ||
		!strings.HasPrefix(loc.String(), spaCallback) {
		t.Errorf("public client without PKCE: %d Location %q, want invalid_request at %s", res.StatusCode, loc, spaCallback)
	}
	// "plain" is refused too.
	res, _ = get(t, r.conf.AuthCodeURL("st", oauth2.SetAuthURLParam("code_challenge", "abc"), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	loc, _ = url.Parse(res.Header.Get("Location"))
	if loc.Query().Get("error") != "invalid_request" {
		t.Errorf("PKCE plain: Location %q, want invalid_request", loc)
	}
	// With S256 and no secret it works.
	tok, _ := exchange(t, e, r, "alice@example.com")
	if tok.AccessToken == "" {
		t.Error("no access token for the public client")
	}
	if tok.RefreshToken != "" {
		t.Error("refresh token issued without offline_access")
	}
}

func TestCodeReuseRevokesTokens(t *testing.T) {
	e := newEnv(t, nil)
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID, "email")
	verifier := oauth2.GenerateVerifier()
	back := e.signIn(t, r.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), "alice@example.com", "password")
	code := back.Query().Get("code")
	tok, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.conf.Exchange(t.Context(), code, oauth2.VerifierOption(verifier)); oauthErrorCode(err) != "invalid_grant" {
		t.Fatalf("second exchange of a code: %v, want invalid_grant", err)
	}
	if _, err := r.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Errorf("the first exchange's access token survived the code's reuse")
	}
}

func TestUserinfoNeedsToken(t *testing.T) {
	e := newEnv(t, nil)
	req, _ := http.NewRequestWithContext(context.Background(), "GET", e.url+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer forged")
	res, _ := do(t, req)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with a forged token = %d, want 401", res.StatusCode)
	}
}

// TestIssuerWithPath serves the provider below a path, as a proxy or an
// all-in-one process would, and signs in through it.
func TestIssuerWithPath(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	e := &env{url: "http://" + srv.Listener.Addr().String() + "/idp", logs: &testenv.LogBuffer{}, clock: newClock()}
	p, err := idp.New(idp.Config{Issuer: e.url + "/", Users: idp.DemoUsers(), Clients: testClients(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.p = p
	mux := http.NewServeMux()
	mux.Handle("/idp/", http.StripPrefix("/idp", p.Handler()))
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID, "profile")
	loginURL, _ := e.loginPage(t, r.conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if !strings.HasPrefix(loginURL, e.url+"/login?") {
		t.Errorf("login page at %s, want below %s", loginURL, e.url)
	}
	_, body := get(t, loginURL)
	if !strings.Contains(body, `action="/idp/login"`) || !strings.Contains(body, `href="/idp/assets/idp.css"`) {
		t.Errorf("login page links do not carry the issuer's path:\n%s", body)
	}
	tok, _ := exchange(t, e, r, "bob@example.com")
	if tok.AccessToken == "" {
		t.Error("no access token")
	}
}
