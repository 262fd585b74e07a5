package gateway

import (
	"encoding/json"
	"net/http"
	"strings"

	"gatehouse/internal/session"
)

// auth answers /oauth2/auth for nginx auth_request, Traefik ForwardAuth
// and Caddy forward_auth: 202 with identity headers for a valid session,
// 401 without one, 403 when the query's restrictions (allowed_groups,
// allowed_emails, allowed_email_domains, comma-separated) refuse it. It
// never redirects: the proxy in front decides what a 401 becomes. A
// refreshed session's Set-Cookie rides on the 202 for nginx to pass back
// (auth_request_set $cookie $upstream_http_set_cookie).
func (g *Gateway) auth(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	s := g.requireSession(w, r, func() { plain(w, http.StatusUnauthorized, "Unauthorized") })
	if s == nil {
		return
	}
	if err := g.cors.checkCSRF(g.forwardedRequest(r)); err != nil {
		// The same cross-origin write check as the proxy applies: behind
		// nginx, the gateway is the only place that can refuse it.
		g.metrics.decision("csrf")
		g.log.InfoContext(r.Context(), "forward auth refused a cross-origin write", "request_id", requestID(r), "user", s.User, "error", err)
		plain(w, http.StatusForbidden, "Forbidden")
		return
	}
	if !allowedByQuery(r, s) {
		g.metrics.decision("forbidden")
		g.log.InfoContext(r.Context(), "forward auth refused by query restrictions", "request_id", requestID(r), "user", s.User, "uri", g.forwardedURI(r))
		plain(w, http.StatusForbidden, "Forbidden")
		return
	}
	g.metrics.decision("allowed")
	g.setAuthResponseHeaders(w.Header(), s)
	w.WriteHeader(http.StatusAccepted)
}

// forwardedURI is the original request's URI behind a trusted proxy, for
// the log.
func (g *Gateway) forwardedURI(r *http.Request) string {
	if !g.trusted.peerTrusted(r) {
		return ""
	}
	u := r.Header.Get("X-Forwarded-Uri")
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i] // never log the query: it may carry tokens
	}
	return u
}

// allowedByQuery applies oauth2-proxy's per-location restrictions.
func allowedByQuery(r *http.Request, s *session.Session) bool {
	if r.URL.RawQuery == "" {
		return true // nginx's auth_request usually sends none
	}
	q := r.URL.Query()
	if groups := splitList(q.Get("allowed_groups")); len(groups) > 0 && !anyShared(groups, s.Groups) {
		return false
	}
	if emails := splitList(q.Get("allowed_emails")); len(emails) > 0 {
		ok := false
		for _, e := range emails {
			ok = ok || strings.EqualFold(e, s.Email)
		}
		if !ok {
			return false
		}
	}
	if domains := splitList(q.Get("allowed_email_domains")); len(domains) > 0 {
		if !parseDomains(domains).allows(s.Email) {
			return false
		}
	}
	return true
}

// setAuthResponseHeaders adds the identity to a forward-auth answer.
func (g *Gateway) setAuthResponseHeaders(h http.Header, s *session.Session) {
	if g.cfg.SetXAuthRequest {
		writeIdentity(h, authRequestNames, s)
		if g.cfg.PassAccessToken && s.AccessToken != "" {
			h.Set("X-Auth-Request-Access-Token", s.AccessToken)
		}
	}
	if g.cfg.SetAuthorizationHeader && s.IDToken != "" {
		h.Set("Authorization", "Bearer "+s.IDToken)
	}
}

// userinfo answers /oauth2/userinfo with who is signed in.
func (g *Gateway) userinfo(w http.ResponseWriter, r *http.Request) {
	noStore(w)
	s, err := g.session(w, r)
	if err != nil {
		g.fail(w, r, http.StatusServiceUnavailable, msgStore, err)
		return
	}
	if s == nil {
		g.unauthorizedJSON(w, r, g.startURL(r, "/"))
		return
	}
	groups := s.Groups
	if groups == nil {
		groups = []string{}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		User              string   `json:"user"`
		Email             string   `json:"email"`
		Groups            []string `json:"groups"`
		PreferredUsername string   `json:"preferredUsername,omitempty"`
	}{s.User, s.Email, groups, s.PreferredUsername})
}

func plain(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(text))
}

// forwardedRequest is the request a forward-auth call is about, as far as
// the cross-origin check needs it: nginx's auth_request keeps the original
// method and headers; Traefik and Caddy send GET with X-Forwarded-Method.
// The forwarded method is only taken in place of a safe one, so a forged
// value can make the check stricter, never looser.
func (g *Gateway) forwardedRequest(r *http.Request) *http.Request {
	fr := new(http.Request)
	*fr = *r
	if m := strings.ToUpper(strings.TrimSpace(r.Header.Get("X-Forwarded-Method"))); m != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		fr.Method = m
	}
	_, fr.Host = g.origin(r)
	return fr
}
