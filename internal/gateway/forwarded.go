package gateway

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// trust decides whose X-Forwarded-* headers are believed. Headers from any
// other peer are replaced, never appended to: a client cannot choose its
// own IP, scheme or host as the gateway and upstreams see them.
type trust struct {
	prefixes []netip.Prefix
}

func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func (t *trust) contains(a netip.Addr) bool {
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerTrusted reports whether the request came straight from a trusted
// proxy.
func (t *trust) peerTrusted(r *http.Request) bool {
	a, ok := peerAddr(r)
	return ok && t.contains(a)
}

// clientIP is the address of the client: the peer, or, behind trusted
// proxies, the right-most address in X-Forwarded-For that is not a trusted
// proxy (the left part of the list is client-supplied and proves nothing).
func (t *trust) clientIP(r *http.Request) string {
	a, ok := peerAddr(r)
	trusted := ok && t.contains(a)
	var hops []string
	if trusted {
		hops = forwardedFor(r.Header)
	}
	return t.clientIPFrom(a, ok, trusted, hops, r.Header.Get("X-Real-Ip"))
}

// clientIPFrom is clientIP with the peer and its trust already worked out
// (the proxy needs them for several headers and parses them once).
func (t *trust) clientIPFrom(a netip.Addr, ok, trusted bool, hops []string, realIP string) string {
	if !ok {
		return ""
	}
	if !trusted {
		return a.String()
	}
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(hops[i])
		if err != nil {
			break
		}
		h = h.Unmap()
		if !t.contains(h) {
			return h.String()
		}
		a = h
	}
	if xr, err := netip.ParseAddr(strings.TrimSpace(realIP)); err == nil && len(hops) == 0 {
		return xr.Unmap().String()
	}
	return a.String()
}

func forwardedFor(h http.Header) []string {
	var out []string
	for _, line := range h.Values("X-Forwarded-For") {
		for v := range strings.SplitSeq(line, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// origin returns the scheme and host the client used to reach the
// gateway: the connection's, or a trusted proxy's X-Forwarded-Proto and
// X-Forwarded-Host.
func (g *Gateway) origin(r *http.Request) (scheme, host string) {
	return originFor(r, g.trusted.peerTrusted(r))
}

// originFor is origin with the peer's trust already known.
func originFor(r *http.Request, trusted bool) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if trusted {
		if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
			scheme = p
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	return scheme, host
}

func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// validHost accepts a plain host[:port] and nothing that could smuggle a
// path, userinfo or white space into a URL built from it.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_') {
			return false
		}
	}
	return true
}

// callbackURL is --redirect-url, or the callback on the host the client
// used.
func (g *Gateway) callbackURL(r *http.Request) string {
	if g.cfg.RedirectURL != "" {
		return g.cfg.RedirectURL
	}
	scheme, host := g.origin(r)
	return scheme + "://" + host + "/oauth2/callback"
}

// appRedirect is where to send the user after sign-in or sign-out, as
// oauth2-proxy chooses it: the rd parameter, else X-Auth-Request-Redirect,
// else (behind a trusted proxy) X-Forwarded-Uri. Every candidate is
// validated; an absolute URL on the gateway's own host is reduced to its
// path. Anything refused falls back to "/".
func (g *Gateway) appRedirect(r *http.Request) string {
	rd := r.URL.Query().Get("rd")
	if rd == "" && r.Method == http.MethodPost {
		// The sign-out confirmation form posts rd in its body.
		r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
		rd = r.PostFormValue("rd")
	}
	candidates := []string{rd, r.Header.Get("X-Auth-Request-Redirect")}
	if g.trusted.peerTrusted(r) {
		candidates = append(candidates, r.Header.Get("X-Forwarded-Uri"))
	}
	for _, rd := range candidates {
		if rd == "" {
			continue
		}
		if target, ok := g.validRedirect(r, rd); ok {
			// Coming back to the gateway's own pages would loop (sign_out)
			// or end the new session (sign_in): go to "/" as oauth2-proxy
			// does for paths under its prefix.
			if gatewayPage(target) {
				return "/"
			}
			return target
		}
		g.log.InfoContext(r.Context(), "redirect target refused", "request_id", requestID(r), "path", r.URL.Path)
		return "/"
	}
	return "/"
}

// validRedirect checks rd with the whitelist; an absolute URL naming the
// gateway's own origin is accepted as its path.
func (g *Gateway) validRedirect(r *http.Request, rd string) (string, bool) {
	if target, ok := g.redirects.Valid(rd); ok {
		return target, true
	}
	u, err := url.Parse(rd)
	if err != nil || !u.IsAbs() {
		return "", false
	}
	scheme, host := g.origin(r)
	if !strings.EqualFold(u.Scheme, scheme) || !strings.EqualFold(u.Host, host) || u.User != nil {
		return "", false
	}
	rest := u.EscapedPath()
	if rest == "" {
		rest = "/"
	}
	if u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	return g.redirects.Valid(rest)
}

// gatewayPage reports whether a relative target names one of the
// gateway's own pages, however its path is percent-encoded
// ("/%6Fauth2/sign_in" is routed as "/oauth2/sign_in").
func gatewayPage(target string) bool {
	if !strings.HasPrefix(target, "/") {
		return false
	}
	p, _, _ := strings.Cut(target, "?")
	p, _, _ = strings.Cut(p, "#")
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	p = strings.ToLower(p)
	return p == "/oauth2" || strings.HasPrefix(p, "/oauth2/")
}
