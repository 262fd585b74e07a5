package idp

import (
	"errors"
	"net/http"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"gatehouse/internal/httpserver"
)

// endSession answers RP-initiated logout (OpenID Connect RP-Initiated
// Logout 1.0) at GET or POST /end_session. The user named by a valid
// id_token_hint loses every token of that client. The browser then goes to
// post_logout_redirect_uri only if it is registered for the client
// (compared exactly); otherwise it gets an error page, never a redirect.
// Without a post_logout_redirect_uri it gets a "signed out" page.
//
// There is no sign-in session to end here (the provider sets no cookies),
// so a forged logout link can at most revoke the tokens of an ID token
// its author already holds.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	ctx := op.ContextWithIssuer(r.Context(), p.issuer)
	r = r.WithContext(ctx)
	req, err := op.ParseEndSessionRequest(r, p.op.Decoder())
	if err != nil {
		p.fail(w, r, http.StatusBadRequest, msgBadRequest, err)
		return
	}
	const notRegistered = "The application asked to be sent, after signing out, to an address that is not registered for it (post_logout_redirect_uri), so this provider will not send you there."
	if req.PostLogoutRedirectURI != "" {
		clientID := req.ClientID
		if clientID == "" && req.IdTokenHint != "" {
			// Unverified, only to choose the message: the library verifies
			// the hint below before anything is trusted.
			var claims oidc.IDTokenClaims
			if _, err := oidc.ParseToken(req.IdTokenHint, &claims); err == nil {
				clientID = claims.AuthorizedParty
			}
		}
		if clientID == "" {
			p.fail(w, r, http.StatusBadRequest,
				"The sign-out request names a post_logout_redirect_uri but neither client_id nor id_token_hint, so the address cannot be checked.",
				errors.New("end_session: post_logout_redirect_uri without client_id or id_token_hint"))
			return
		}
		c := p.clients[clientID]
		if c == nil {
			p.fail(w, r, http.StatusBadRequest, "The application that sent you here is not registered with this provider (unknown client_id).",
				errors.New("end_session: unknown client_id"))
			return
		}
		if !slices.Contains(c.postLogoutURIs, req.PostLogoutRedirectURI) {
			p.fail(w, r, http.StatusBadRequest, notRegistered, errors.New("end_session: post_logout_redirect_uri not registered for client "+c.id))
			return
		}
	}
	if req.ClientID != "" && p.clients[req.ClientID] == nil {
		p.fail(w, r, http.StatusBadRequest, "The application that sent you here is not registered with this provider (unknown client_id).",
			errors.New("end_session: unknown client_id"))
		return
	}
	session, err := op.ValidateEndSessionRequest(ctx, req, p.op)
	if err != nil {
		p.fail(w, r, http.StatusBadRequest,
			"This sign-out request could not be accepted: its ID token (id_token_hint) is not one this provider issued, or does not match its client_id.",
			err)
		return
	}
	if err := p.store.TerminateSession(ctx, session.UserID, session.ClientID); err != nil {
		p.fail(w, r, http.StatusInternalServerError, msgInternal, err)
		return
	}
	p.log.InfoContext(ctx, "signed out", "request_id", httpserver.RequestID(ctx), "client_id", session.ClientID, "user", session.UserID)
	if req.PostLogoutRedirectURI == "" {
		p.renderPage(w, r, http.StatusOK, pageView{
			Title:   "Signed out",
			Heading: "You are signed out",
			Message: "The application's sign-in with this provider has ended. You can close this tab.",
		})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, session.RedirectURI, http.StatusFound)
}
