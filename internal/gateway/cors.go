package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// cors lets a client on another origin (the tutorial's localhost:3000)
// call the gateway with credentials. The gateway answers preflights itself
// and sets the CORS headers on every answer to an allowed origin — its own
// 401, 403 and 502 too, which the client could not read otherwise
// (oauth2-proxy #2004).
type cors struct {
	origins map[string]bool
	cop     *http.CrossOriginProtection
}

// Explicit lists: "*" means nothing when credentials are included.
const (
	corsMethods = "GET, HEAD, POST, PUT, PATCH, DELETE"
	corsHeaders = "Accept, Accept-Language, Authorization, Content-Type, If-Match, If-None-Match, X-Requested-With, X-Request-Id"
	corsExpose  = "ETag, Link, Location, Retry-After, X-Request-Id"
)

func newCORS(origins []string) *cors {
	c := &cors{origins: map[string]bool{}, cop: http.NewCrossOriginProtection()}
	for _, o := range origins {
		o = strings.TrimSuffix(strings.ToLower(o), "/")
		c.origins[o] = true
		c.cop.AddTrustedOrigin(o)
	}
	return c
}

// checkOrigin validates a configured origin: scheme://host[:port], no
// path, no wildcard.
func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("want scheme://host[:port], for example http://localhost:3000")
	}
	if strings.Contains(o, "*") {
		return errors.New("wildcards are not allowed with credentials; list each origin")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || strings.ContainsAny(o, "?#") || u.User != nil {
		return errors.New("an origin has no path, query or credentials")
	}
	if p := u.Port(); (u.Scheme == "http" && p == "80") || (u.Scheme == "https" && p == "443") {
		return errors.New("browsers send the default port as no port: drop :" + p)
	}
	return nil
}

func (c *cors) allowed(origin string) bool {
	return origin != "" && c.origins[strings.ToLower(origin)]
}

// handle adds CORS headers for an allowed origin and answers its
// preflight. It reports whether the request has been answered.
func (c *cors) handle(w http.ResponseWriter, r *http.Request) bool {
	if len(c.origins) == 0 {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if !c.allowed(origin) {
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", corsExpose)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", corsMethods)
	h.Set("Access-Control-Allow-Headers", corsHeaders)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// checkCSRF refuses state-changing requests sent by a browser from an
// origin that is neither this one nor an allowed CORS origin: with the
// session cookie attached they would act as the user (CSRF).
func (c *cors) checkCSRF(r *http.Request) error {
	return c.cop.Check(r)
}
