package gateway

import (
	"errors"
	"net/http"
	"net/url"
)

// signIn answers /oauth2/sign_in: a page with the provider button, or,
// with --skip-provider-button, straight to the provider. Visiting it ends
// any current session first, so a shared machine's next user never
// inherits the last one's (oauth2-proxy regressed here: CVE-2026-34454).
func (g *Gateway) signIn(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	rd := g.appRedirect(r)
	// A link from another site must not sign the user out (sign_out asks
	// for confirmation then); a new sign-in replaces the session anyway.
	if !crossSite(r) {
		if err := g.sessions.Clear(w, r); err != nil {
			g.log.WarnContext(r.Context(), "clear session", "request_id", requestID(r), "error", err)
		}
	}
	if g.cfg.SkipProviderButton {
		g.beginLogin(w, r, rd)
		return
	}
	g.render(w, r, http.StatusOK, page{
		Title:    "Sign in",
		Heading:  "Sign in to continue",
		Message:  g.signInMessage(),
		Button:   "Sign in with " + g.providerName(),
		Action:   "/oauth2/start",
		Method:   http.MethodGet,
		RD:       rd,
		Disabled: !g.Ready(),
	})
}

func (g *Gateway) signInMessage() string {
	if !g.Ready() {
		return "The identity provider cannot be reached right now, so nobody can sign in. This page works again as soon as it answers; try again in a minute."
	}
	return "You need to sign in to use this site."
}

func (g *Gateway) providerName() string {
	if g.cfg.Provider == "google" {
		return "Google"
	}
	if u, err := url.Parse(g.cfg.IssuerURL); err == nil && u.Host != "" {
		return u.Host
	}
	return "OpenID Connect"
}

// signOut answers /oauth2/sign_out: it clears the session and CSRF
// cookies and redirects to a validated rd. A cross-site GET — a link or
// image on another site — must not sign the user out, so it gets a
// confirmation page whose form POSTs back here.
func (g *Gateway) signOut(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	rd := g.appRedirect(r)
	if crossSite(r) && !g.cors.allowed(r.Header.Get("Origin")) {
		if r.Method == http.MethodPost {
			g.fail(w, r, http.StatusForbidden, "Sign-out requests from other sites are refused.", errors.New("cross-site sign-out POST"))
			return
		}
		g.render(w, r, http.StatusOK, page{
			Title:   "Sign out",
			Heading: "Sign out?",
			Message: "Another site sent you here to sign out. Sign out only if you meant to.",
			Button:  "Sign out",
			Action:  "/oauth2/sign_out",
			Method:  http.MethodPost,
			RD:      rd,
		})
		return
	}
	if err := g.sessions.Clear(w, r); err != nil {
		g.log.WarnContext(r.Context(), "clear session", "request_id", requestID(r), "error", err)
	}
	http.SetCookie(w, g.csrfCookie("", -1))
	g.metrics.login("signed_out")
	status := http.StatusFound
	if r.Method == http.MethodPost {
		status = http.StatusSeeOther
	}
	http.Redirect(w, r, rd, status)
}

// crossSite reports whether the request was made by another site, by the
// browser's Sec-Fetch-Site, or for older browsers by an Origin whose host
// is not this one.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site":
		return true
	case "same-origin", "same-site", "none":
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err != nil || u.Host != r.Host
}
