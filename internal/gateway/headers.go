package gateway

import (
	"net/http"
	"strings"

	"gatehouse/internal/session"
)

// identityHeaderNames are the request headers that carry identity to
// upstreams. A client must never set them itself: they are removed from
// every proxied request, in every spelling a server might fold into the
// same name — case and "_" for "-" (nginx and many frameworks treat
// X_Forwarded_User as X-Forwarded-User: CVE-2025-64484).
var identityHeaderNames = map[string]bool{
	"x-forwarded-user":               true,
	"x-forwarded-email":              true,
	"x-forwarded-groups":             true,
	"x-forwarded-preferred-username": true,
	"x-forwarded-access-token":       true,
	"gap-auth":                       true,
	"gap-signature":                  true,
	"x-real-ip":                      true,
}

// normalizeHeaderName folds case and "_" so every variant matches.
func normalizeHeaderName(k string) string {
	return strings.ReplaceAll(strings.ToLower(k), "_", "-")
}

// forwardingHeaderNames are set by the gateway itself for every proxied
// request; any client spelling of them is removed first.
var forwardingHeaderNames = map[string]bool{
	"forwarded":          true,
	"x-forwarded-for":    true,
	"x-forwarded-host":   true,
	"x-forwarded-proto":  true,
	"x-forwarded-port":   true,
	"x-forwarded-prefix": true,
	"x-forwarded-uri":    true,
	"x-forwarded-method": true,
	"x-forwarded-ssl":    true,
}

// stripIdentity removes client-supplied identity and forwarding headers
// in every spelling; Authorization too when the gateway itself sets it.
func stripIdentity(h http.Header, authorization bool) {
	for k := range h {
		// Only names starting with x, g, f or a can match: skip the rest
		// without building a folded copy.
		switch k[0] | 0x20 {
		case 'x', 'g', 'f', 'a':
		default:
			continue
		}
		n := normalizeHeaderName(k)
		if identityHeaderNames[n] || forwardingHeaderNames[n] || strings.HasPrefix(n, "x-auth-request-") || (authorization && n == "authorization") {
			delete(h, k)
		}
	}
}

// stripCookies removes the gateway's own cookies (session parts and CSRF)
// from the Cookie header, so upstreams never see the sealed session
// (oauth2-proxy forwards it: #388, #644).
func stripCookies(h http.Header, c session.CookieConfig) {
	lines := h.Values("Cookie")
	if len(lines) == 0 {
		return
	}
	var kept []string
	removed := false
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			p := strings.TrimSpace(part)
			if p == "" {
				continue
			}
			name, _, _ := strings.Cut(p, "=")
			if c.IsSessionCookie(strings.TrimSpace(name)) {
				removed = true
			} else {
				kept = append(kept, p)
			}
		}
	}
	if !removed && len(lines) == 1 {
		return // nothing of the gateway's: leave the header as it came
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h.Set("Cookie", strings.Join(kept, "; "))
}

// identityNames are the four identity headers under one prefix.
type identityNames struct{ user, email, preferredUsername, groups string }

// oauth2-proxy's identity headers: X-Auth-Request-* on forward-auth
// answers, X-Forwarded-* to upstreams.
var (
	authRequestNames = identityNames{"X-Auth-Request-User", "X-Auth-Request-Email", "X-Auth-Request-Preferred-Username", "X-Auth-Request-Groups"}
	forwardedNames   = identityNames{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Preferred-Username", "X-Forwarded-Groups"}
)

// writeIdentity sets the identity headers (groups comma-separated).
func writeIdentity(h http.Header, n identityNames, s *session.Session) {
	h.Set(n.user, s.User)
	if s.Email != "" {
		h.Set(n.email, s.Email)
	}
	if s.PreferredUsername != "" {
		h.Set(n.preferredUsername, s.PreferredUsername)
	}
	if len(s.Groups) > 0 {
		h.Set(n.groups, strings.Join(s.Groups, ","))
	}
}
