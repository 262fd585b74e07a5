// Package gateway is Gatehouse's identity-aware gateway: oauth2-proxy's
// endpoints (/oauth2/start, callback, sign_in, sign_out, auth, userinfo),
// its session cookie and its header conventions, and a reverse proxy that
// checks the session in-process before forwarding.
//
// The package is configured by a plain Config; only internal/cli knows the
// flags, environment variables and files that fill it.
package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"gatehouse/internal/session"
)

// Config configures a Gateway. Zero values are the documented defaults.
type Config struct {
	// Provider is "oidc" (any OpenID provider at IssuerURL) or "google"
	// (IssuerURL defaults to Google's). Empty: "oidc" when IssuerURL is
	// set, else "google", as oauth2-proxy defaults.
	Provider     string
	IssuerURL    string
	ClientID     string
	ClientSecret string
	// Scopes requested at login; default "openid email profile".
	Scopes []string
	// RedirectURL is the absolute callback URL registered at the provider
	// (…/oauth2/callback). Empty: built from each request's scheme and host.
	RedirectURL string
	// GroupsClaim names the ID-token claim holding groups; default "groups".
	GroupsClaim string
	// InsecureAllowUnverifiedEmail accepts ID tokens whose email_verified
	// is false or missing.
	InsecureAllowUnverifiedEmail bool
	// HTTPClient talks to the provider; nil means a client with timeouts.
	HTTPClient *http.Client

	// EmailDomains allows users by email domain; "*" allows everyone.
	// At least one of EmailDomains, AuthenticatedEmails must be set.
	EmailDomains []string
	// AuthenticatedEmails allows these exact addresses (from
	// --authenticated-emails-file), in addition to EmailDomains.
	AuthenticatedEmails []string
	// AllowedGroups, when set, requires membership of one of them.
	AllowedGroups []string

	// Cookie says where and how the session cookie is set.
	Cookie session.CookieConfig
	// Sessions keeps sessions; nil means a CookieStore sealed with Codec.
	Sessions session.Store
	// Codec seals the session and CSRF cookies.
	Codec *session.Codec
	// CookieRefresh refreshes tokens once a session's tokens are this old
	// (0: only when they have expired).
	CookieRefresh time.Duration

	// WhitelistDomains lists the hosts that rd may name
	// (--whitelist-domain).
	WhitelistDomains []string

	// Upstreams are oauth2-proxy upstream URLs: http(s)://host[:port][/path],
	// file:///dir#/path, static://CODE. A request goes to the upstream with
	// the longest matching path prefix. None: forward-auth mode only.
	Upstreams []string
	// UseUpstreamHost sends the upstream's own host as Host
	// (--pass-host-header=false). By default the client's Host is kept,
	// as nginx's "proxy_set_header Host $host" does (the tutorial's step
	// 04), so upstreams never learn internal names.
	UseUpstreamHost bool
	// UpstreamTimeout bounds waiting for an upstream's response headers
	// (default 30s); a slow upstream gets 504.
	UpstreamTimeout time.Duration
	// UpstreamFlushInterval is ReverseProxy's FlushInterval (0: default).
	UpstreamFlushInterval time.Duration

	// ReverseProxy says the gateway runs behind a proxy (nginx): the
	// X-Forwarded-* and X-Real-IP headers of TrustedProxies are believed.
	ReverseProxy bool
	// TrustedProxies are the peers whose X-Forwarded-* headers are
	// believed. Empty with ReverseProxy: loopback and private networks.
	TrustedProxies []netip.Prefix

	// SetXAuthRequest adds X-Auth-Request-User, -Email,
	// -Preferred-Username, -Groups (and -Access-Token with PassAccessToken)
	// to /oauth2/auth responses.
	SetXAuthRequest bool
	// SetAuthorizationHeader adds "Authorization: Bearer <id_token>" to
	// /oauth2/auth responses.
	SetAuthorizationHeader bool
	// PassAuthorizationHeader sends "Authorization: Bearer <id_token>"
	// upstream.
	PassAuthorizationHeader bool
	// PassAccessToken sends X-Forwarded-Access-Token upstream.
	PassAccessToken bool
	// SkipUserHeaders stops X-Forwarded-User, -Email, -Groups and
	// -Preferred-Username going upstream (oauth2-proxy's
	// --pass-user-headers=false).
	SkipUserHeaders bool

	// SkipAuthPreflight lets OPTIONS requests through without a session.
	SkipAuthPreflight bool
	// SkipProviderButton sends sign-in straight to the provider.
	SkipProviderButton bool
	// CORSAllowedOrigins are the origins (scheme://host[:port]) allowed to
	// call the gateway with credentials.
	CORSAllowedOrigins []string

	// Logger receives the gateway's logs; never tokens or cookies.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Metrics, if set, records the gateway's metrics.
	Metrics *Metrics
}

// Google's issuer, used for --provider=google.
const googleIssuer = "https://accounts.google.com"

// defaults fills the zero fields with defaults.
func (c *Config) defaults() {
	if c.Provider == "" {
		// oauth2-proxy's default provider is Google; an issuer URL means
		// any other OpenID provider.
		c.Provider = "google"
		if c.IssuerURL != "" {
			c.Provider = "oidc"
		}
	}
	if c.Provider == "google" && c.IssuerURL == "" {
		c.IssuerURL = googleIssuer
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "email", "profile"}
	}
	if c.GroupsClaim == "" {
		c.GroupsClaim = "groups"
	}
	if c.UpstreamTimeout == 0 {
		c.UpstreamTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReverseProxy && len(c.TrustedProxies) == 0 {
		c.TrustedProxies = privateNetworks()
	}
}

// privateNetworks is where a reverse proxy in front of the gateway usually
// is: loopback, RFC 1918 and unique-local addresses. oauth2-proxy trusts
// every source by default (CVE-2026-40575); Gatehouse trusts none without
// --reverse-proxy, and only these with it unless --trusted-proxy-ip says.
func privateNetworks() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// validate reports every problem at once.
func (c *Config) validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch c.Provider {
	case "oidc", "google":
	default:
		add("provider %q: want oidc or google (--provider)", c.Provider)
	}
	if c.IssuerURL == "" {
		add("an issuer is required with --provider=oidc: set --oidc-issuer-url")
	} else if !strings.HasPrefix(c.IssuerURL, "https://") && !strings.HasPrefix(c.IssuerURL, "http://") {
		add("--oidc-issuer-url %q: want an http(s) URL", c.IssuerURL)
	}
	if c.ClientID == "" {
		add("--client-id is required (the OAuth client registered at the provider)")
	}
	if c.ClientSecret == "" {
		add("--client-secret (or --client-secret-file) is required")
	}
	if c.Codec == nil && c.Sessions == nil {
		add("--cookie-secret is required: generate one with 'gatehouse secret'")
	}
	if len(c.EmailDomains) == 0 && len(c.AuthenticatedEmails) == 0 {
		add("nobody could sign in: set --email-domain (\"*\" for any) or --authenticated-emails-file")
	}
	if c.RedirectURL != "" && !strings.HasPrefix(c.RedirectURL, "http://") && !strings.HasPrefix(c.RedirectURL, "https://") {
		add("--redirect-url %q: want an absolute http(s) URL ending in /oauth2/callback", c.RedirectURL)
	}
	for _, o := range c.CORSAllowedOrigins {
		if err := checkOrigin(o); err != nil {
			add("--cors-allowed-origin %q: %w", o, err)
		}
	}
	if err := c.Cookie.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
