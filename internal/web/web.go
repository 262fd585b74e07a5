// Package web is the tutorial's todo client (its Next.js todo-client) in
// Go: a few server-rendered pages from embedded templates, one stylesheet
// and one plain script, all inside the binary. The browser talks to the
// Todo API through the gateway, cross-origin, with the gateway's session
// cookie (credentials: "include"); this server never sees a todo and never
// reads the cookie's value.
//
// Like the tutorial's middleware.ts, the server sends a visitor of / or
// /headers who has no session cookie to /login. That works because cookies
// are scoped to a host, not a port: the cookie the gateway set on
// localhost:8080 also comes to this client on localhost:3000. The cookie
// is HttpOnly, so the page's script never holds it.
//
// The package is configured by a plain Config; only internal/cli knows the
// flags, environment variables and files that fill it.
package web

import (
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"gatehouse/internal/session"
)

// Defaults for the zero Config: the tutorial's layout on one machine, the
// client on localhost:3000 and the gateway on localhost:8080.
const (
	DefaultAPIURL    = "http://localhost:8080"
	DefaultPublicURL = "http://localhost:3000"
)

// Config configures the web client. Zero values are the documented
// defaults.
type Config struct {
	// APIURL is the gateway's public URL as the browser reaches it: the
	// Todo API is at its root (GET /, POST /, PUT /{id}, …, GET /headers)
	// and the gateway's endpoints under /oauth2/. A path prefix is kept
	// (for a gateway behind a path on a shared host). Default
	// DefaultAPIURL.
	APIURL string
	// PublicURL is this client's own URL as the browser reaches it,
	// scheme://host[:port] without a path. The gateway sends the user back
	// to it after signing in (rd=PublicURL/) and out (rd=PublicURL/login),
	// so it must be allowed by the gateway's --whitelist-domain. Default
	// DefaultPublicURL.
	PublicURL string
	// CookieName is the gateway's session cookie (its --cookie-name); a
	// session split into NAME_0, NAME_1, … counts too. Default
	// session.DefaultCookieName ("_oauth2_proxy").
	CookieName string
	// Logger receives a start-up warning about the cookie's reach and
	// failures to render a page. Nil discards them.
	Logger *slog.Logger
}

// New returns the web client's handler. It does no I/O. It refuses a
// Config that cannot work, naming every problem and the setting to fix.
func New(cfg Config) (http.Handler, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = DefaultPublicURL
	}
	if cfg.CookieName == "" {
		cfg.CookieName = session.DefaultCookieName
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	api, public, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	assets, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &server{
		cookieName: cfg.CookieName,
		log:        cfg.Logger,
		apiHost:    api.Host,
		assets:     assets,
		mux:        http.NewServeMux(),
		apiURL:     strings.TrimSuffix(api.String(), "/"),
		csp:        contentSecurityPolicy(origin(api)),
	}
	s.publicURL = strings.TrimSuffix(public.String(), "/")
	s.signInURL = s.apiURL + "/oauth2/start?rd=" + url.QueryEscape(s.publicURL+"/")
	s.signOutURL = s.apiURL + "/oauth2/sign_out?rd=" + url.QueryEscape(s.publicURL+"/login")
	if s.pages, err = parsePages(assets); err != nil {
		return nil, err
	}
	if api.Hostname() != public.Hostname() && !sharableHost(api.Hostname(), public.Hostname()) {
		s.log.Warn("the client and the gateway are on different hosts that no cookie domain can cover: "+
			"the gateway's session cookie will not reach this client and every page will redirect to /login; "+
			"use the same host name for both (for example localhost)",
			"public_url", s.publicURL, "api_url", s.apiURL)
	}
	s.routes()
	return s, nil
}

// server is the handler New returns.
type server struct {
	cookieName string
	log        *slog.Logger
	mux        *http.ServeMux
	assets     assets
	pages      map[string]*template.Template

	apiURL, publicURL     string // without a trailing slash
	apiHost               string // host[:port] of apiURL, shown on /login
	signInURL, signOutURL string
	csp                   string
}

var _ http.Handler = (*server)(nil)

// ServeHTTP sets the security headers on every answer, then routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", s.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	s.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows the pages their own script and stylesheet
// and nothing inline, so an injected <script> or on* attribute does not
// run even if escaping ever failed. The script may call the gateway
// (connect-src). form-action names the gateway as well, though no page
// posts a form there: signing in and out are links, since form-action
// also applies to every redirect after a submission and the gateway sends
// the browser on to the identity provider (Chromium blocks that).
func contentSecurityPolicy(apiOrigin string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' " + apiOrigin +
		"; img-src 'self' data:; form-action 'self' " + apiOrigin + "; frame-ancestors 'none'; base-uri 'none'"
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

// validate checks the Config (defaults applied) and returns the parsed
// URLs. It reports every problem at once.
func (c *Config) validate() (api, public *url.URL, err error) {
	var errs []error
	api, aerr := parseBase(c.APIURL, true)
	if aerr != nil {
		errs = append(errs, fmt.Errorf("--api-url %q: %w; give the gateway's URL as the browser reaches it, for example %s",
			c.APIURL, aerr, DefaultAPIURL))
	}
	public, perr := parseBase(c.PublicURL, false)
	if perr != nil {
		errs = append(errs, fmt.Errorf("--public-url %q: %w; give this client's URL as the browser reaches it, for example %s",
			c.PublicURL, perr, DefaultPublicURL))
	}
	if !validCookieName(c.CookieName) {
		errs = append(errs, fmt.Errorf("--cookie-name %q: want the gateway's cookie name (letters, digits and !#$%%&'*+-.^_`|~), for example %s",
			c.CookieName, session.DefaultCookieName))
	}
	return api, public, errors.Join(errs...)
}

// parseBase parses an absolute http(s) URL with a host and nothing after
// the path; a path is allowed only when withPath.
func parseBase(s string, withPath bool) (*url.URL, error) {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return nil, errors.New("want an absolute http:// or https:// URL")
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, errors.New("want no user, query or fragment")
	case !withPath && u.Path != "" && u.Path != "/":
		return nil, errors.New("want no path (the client is served at the root of its host)")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// validCookieName reports whether name is an RFC 6265 cookie-name (an
// RFC 7230 token).
func validCookieName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// sharableHost reports whether two different host names could share a
// cookie through the gateway's --cookie-domain: one must be under the
// other, or both under a common parent of two labels or more (a
// heuristic: the public-suffix list is not consulted). An IP address or
// a single-label name such as localhost shares with no other name; the
// usual mistake is 127.0.0.1 against localhost.
func sharableHost(a, b string) bool {
	for _, h := range []string{a, b} {
		if net.ParseIP(h) != nil || !strings.Contains(h, ".") {
			return false
		}
	}
	if strings.HasSuffix(a, "."+b) || strings.HasSuffix(b, "."+a) {
		return true
	}
	_, pa, _ := strings.Cut(a, ".")
	_, pb, _ := strings.Cut(b, ".")
	return pa == pb && strings.Contains(pa, ".")
}
