package idp

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// authorize checks an authorization request before the token library
// handles it. A request whose client or redirect URI cannot be trusted
// gets an error page: redirecting its errors would make the provider an
// open redirector (RFC 6749 section 4.1.2.1). Errors of a request with a
// registered redirect URI go back to the client, as the protocol says; this
// is done here, so that the library does not log the request's state.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, msgBadRequest, err)
		return
	}
	q := r.Form
	// RFC 6749 §3.1: a parameter sent more than once is an invalid
	// request. Refusing it here also keeps this check and the library
	// (which reads the last value) from seeing different redirect URIs.
	for _, name := range singleParams {
		if len(q[name]) > 1 {
			p.fail(w, r, http.StatusBadRequest, "The sign-in request repeats the parameter "+name+", so it was refused.",
				errors.New("authorize: repeated parameter "+name))
			return
		}
	}
	for _, name := range []string{"state", "nonce", "login_hint", "code_challenge"} {
		if len(q.Get(name)) > maxParamLen {
			p.fail(w, r, http.StatusBadRequest, "The sign-in request's "+name+" is too long.",
				errors.New("authorize: "+name+" too long"))
			return
		}
	}
	c := p.clients[q.Get("client_id")]
	if c == nil {
		p.fail(w, r, http.StatusBadRequest,
			"The application that sent you here is not registered with this provider (unknown client_id), so it cannot sign you in.",
			errors.New("authorize: unknown client_id"))
		return
	}
	redirectURI := q.Get("redirect_uri")
	if !slices.Contains(c.redirectURIs, redirectURI) {
		p.fail(w, r, http.StatusBadRequest,
			"The application asked to be sent back to an address that is not registered for it (redirect_uri), so this provider will not send you there. Its configuration must list the exact address.",
			errors.New("authorize: redirect_uri not registered for client "+c.id))
		return
	}
	back := func(code, description string) {
		p.log.InfoContext(r.Context(), "authorization request refused", "client_id", c.id, "error", code, "description", description)
		redirectError(w, r, redirectURI, q.Get("response_mode"), code, description, q.Get("state"))
	}
	if q.Get("request") != "" || q.Get("request_uri") != "" {
		back("request_not_supported", "request objects are not supported")
		return
	}
	if q.Get("response_type") != string(oidc.ResponseTypeCode) {
		back("unsupported_response_type", "only response_type=code is supported")
		return
	}
	if !slices.Contains(strings.Fields(q.Get("scope")), oidc.ScopeOpenID) {
		back("invalid_scope", "the scope must include openid")
		return
	}
	req := &oidc.AuthRequest{CodeChallenge: q.Get("code_challenge"), CodeChallengeMethod: oidc.CodeChallengeMethod(q.Get("code_challenge_method"))}
	if err := checkPKCE(c, req); err != nil {
		var oe *oidc.Error
		errors.As(err, &oe)
		back(string(oe.ErrorType), oe.Description)
		return
	}
	if slices.Contains(strings.Fields(q.Get("prompt")), oidc.PromptNone) {
		back("login_required", "this provider keeps no sign-in session, so prompt=none always needs a login")
		return
	}
	p.op.ServeHTTP(w, r)
}

// redirectError sends an authorization error back to the client's
// registered redirect URI (RFC 6749 section 4.1.2.1).
func redirectError(w http.ResponseWriter, r *http.Request, redirectURI, mode, code, description, state string) {
	u, _ := url.Parse(redirectURI) // registered, so it parses
	v := url.Values{"error": {code}, "error_description": {description}}
	if state != "" {
		v.Set("state", state)
	}
	if mode == string(oidc.ResponseModeFragment) {
		u.Fragment = ""
		u.RawFragment = v.Encode()
	} else {
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// authorizeCallback lets the library finish a sign-in (issue the code and
// redirect to the client) only for a request the login page completed;
// anything else gets an error page.
func (p *Provider) authorizeCallback(w http.ResponseWriter, r *http.Request) {
	a, ok := p.store.pending(r.URL.Query().Get("id"))
	if !ok {
		p.fail(w, r, http.StatusBadRequest, msgLoginExpired, errors.New("authorize callback: unknown or expired request"))
		return
	}
	if !a.done {
		p.fail(w, r, http.StatusBadRequest, "Sign in first: this address only finishes a sign-in.", errors.New("authorize callback: not signed in yet"))
		return
	}
	p.op.ServeHTTP(w, r)
}

// singleParams may appear at most once in an authorization request.
var singleParams = []string{"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "prompt", "max_age", "login_hint", "request", "request_uri"}

// maxParamLen bounds the client-chosen strings a pending sign-in keeps.
const maxParamLen = 1024
