// Package idp is Gatehouse's development OpenID provider: discovery, a JWKS
// with persisted and rotated signing keys, the authorization-code flow with
// PKCE and nonce, refresh tokens with rotation, userinfo, RP-initiated
// logout, and its own small login page. The protocol is
// github.com/zitadel/oidc/v3/pkg/op; this package supplies the storage
// behind it (storage.go), the users and clients, and the pages a browser
// sees.
//
// It is meant for local use and tests: users and clients are fixed at
// start, and sign-ins and tokens live in memory only (a restart signs
// everyone out; the signing keys survive when Open is given a DataDir).
// There is no single sign-on session: every authorization request asks
// for the password, so there is no consent screen and nothing to forget
// at logout beyond the tokens.
//
// Claims, by scope (the same in the ID token and at userinfo):
//
//	openid   sub (a stable opaque id derived from the email address)
//	email    email, email_verified (always true)
//	profile  name, preferred_username (the email's local part)
//	groups   groups — also sent with "email" or "profile", so a gateway
//	         that asks for the usual "openid email profile" sees them
//
// Refresh tokens are issued to clients that ask for offline_access, as
// OpenID Connect Core 1.0 section 11 describes.
package idp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/cors"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// ErrPlainHTTPIssuer refuses an http issuer on a host that is not
// loopback (see Config.InsecureAllowHTTPIssuer).
var ErrPlainHTTPIssuer = errors.New("plain http on a host that is not loopback: passwords and tokens would cross the network unencrypted; use https (behind a TLS proxy), a loopback host, or allow it explicitly")

// Config configures a Provider. Zero values are the documented defaults.
type Config struct {
	// Issuer is the provider's URL as clients and browsers reach it, such as
	// http://127.0.0.1:9000; discovery is at Issuer +
	// "/.well-known/openid-configuration". It must be https, or http with a
	// loopback host (localhost, 127.0.0.0/8, ::1) unless
	// InsecureAllowHTTPIssuer is set. A trailing slash is dropped. With a
	// path (https://example.com/idp) Handler serves the paths below it:
	// mount it with http.StripPrefix.
	Issuer string
	// InsecureAllowHTTPIssuer allows an http issuer whose host is not
	// loopback. Passwords, codes and tokens then cross the network in
	// clear text, so use it only on a network you trust, such as between
	// containers on one machine.
	InsecureAllowHTTPIssuer bool
	// DataDir is where Open keeps the signing keys (the file
	// idp-signing-keys.json, mode 0600) so tokens stay verifiable across
	// restarts. New keeps keys in memory and refuses a DataDir.
	DataDir string
	// Users may sign in. At least one is required; see DemoUsers.
	Users []User
	// Clients may ask for sign-ins. At least one is required.
	Clients []Client
	// KeyRotationPeriod is how long a signing key signs before a new one
	// replaces it (default 30 days; negative: only Rotate replaces it). A
	// replaced key stays in the JWKS until every token it signed has
	// expired (KeyRetention).
	KeyRotationPeriod time.Duration
	// Logger receives the provider's logs; never passwords, codes or
	// tokens. Nil discards them.
	Logger *slog.Logger
	// Now is the clock of sign-ins, tokens, rate limits and key rotation;
	// nil means time.Now. (The token library stamps iat and exp from the
	// real clock.)
	Now func() time.Time
}

// User is an account that can sign in.
type User struct {
	// Email is the sign-in name and the email claim; unique, compared
	// without regard to case.
	Email string
	// Name is the name claim (default: the email's local part).
	Name string
	// Password is the password in clear text, for local use. Exactly one
	// of Password and PasswordHash is set.
	Password string
	// PasswordHash is a bcrypt hash of the password ($2a$, $2b$ or $2y$),
	// as `htpasswd -nbB user password` or golang.org/x/crypto/bcrypt
	// make.
	PasswordHash string
	// Groups is the groups claim.
	Groups []string
}

// Client is an application that signs users in here.
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client_secret. Empty makes a public client (a
	// single-page or native app that cannot keep a secret): it must use
	// PKCE with S256. Confidential clients may use PKCE too.
	Secret string
	// RedirectURIs are the only places a sign-in returns to, compared
	// exactly: a request naming any other gets an error page, never a
	// redirect.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the only places end_session returns to,
	// compared exactly.
	PostLogoutRedirectURIs []string
}

// DemoUsers returns the built-in demo accounts: alice@example.com (Alice,
// group admins) and bob@example.com (Bob), both with the password
// "password". Anyone who can reach the provider can sign in as them, so
// serve them on loopback only.
func DemoUsers() []User {
	return []User{
		{Email: "alice@example.com", Name: "Alice", Password: "password", Groups: []string{"admins"}},
		{Email: "bob@example.com", Name: "Bob", Password: "password"},
	}
}

// Token and key lifetimes.
const (
	// DefaultKeyRotationPeriod is how long a signing key signs by default.
	DefaultKeyRotationPeriod = 30 * 24 * time.Hour
	// IDTokenLifetime is how long an ID token is valid.
	IDTokenLifetime = time.Hour
	// AccessTokenLifetime is how long an access token is valid.
	AccessTokenLifetime = time.Hour
	// RefreshTokenLifetime is how long a refresh token stays usable; each
	// use returns a new one with a fresh lifetime.
	RefreshTokenLifetime = 7 * 24 * time.Hour
	// KeyRetention is how long a replaced signing key stays in the JWKS:
	// the ID-token lifetime plus five minutes for clock skew. Only ID
	// tokens are signed; access tokens are opaque.
	KeyRetention = IDTokenLifetime + 5*time.Minute
	// LoginTimeout is how long a user may take on the login page.
	LoginTimeout = 15 * time.Minute
	// CodeLifetime is how long an authorization code may wait to be
	// exchanged.
	CodeLifetime = 2 * time.Minute
)

// Provider is the OpenID provider. Its Handler serves every endpoint.
type Provider struct {
	issuer  string // without a trailing slash
	base    string // the issuer's path, prefixed to the links of the pages
	log     *slog.Logger
	now     func() time.Time
	keys    *keyring
	store   *store
	op      *op.Provider
	limits  *loginLimits
	csrf    *http.CrossOriginProtection
	demo    bool
	mux     *http.ServeMux
	clients map[string]*client
}

// New checks cfg and builds a provider whose signing keys live in memory
// only: after a restart, tokens it signed no longer verify. It does no
// I/O (it draws random numbers for the key). Use Open to keep the keys in
// cfg.DataDir.
func New(cfg Config) (*Provider, error) {
	if cfg.DataDir != "" {
		return nil, errors.New("idp.New keeps signing keys in memory: use idp.Open to keep them in DataDir")
	}
	users, clients, err := cfg.check()
	if err != nil {
		return nil, err
	}
	keys, err := newMemoryKeyring(cfg.keyringConfig())
	if err != nil {
		return nil, err
	}
	return build(cfg, users, clients, keys)
}

// Open checks cfg and builds a provider whose signing keys are kept in
// cfg.DataDir (created with mode 0700 if missing): it loads them from
// idp-signing-keys.json, or creates the file (mode 0600) with a first
// key. A key file others can read is made private again, with a warning.
// Without a DataDir, Open is New.
func Open(ctx context.Context, cfg Config) (*Provider, error) {
	if cfg.DataDir == "" {
		return New(cfg)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	users, clients, err := cfg.check()
	if err != nil {
		return nil, err
	}
	keys, err := openKeyring(cfg.DataDir, cfg.keyringConfig())
	if err != nil {
		return nil, err
	}
	return build(cfg, users, clients, keys)
}

// Validate reports every problem with c at once, as New and Open would,
// without generating or reading keys.
func (c Config) Validate() error {
	_, _, err := c.check()
	return err
}

// check fills the zero fields, reports every problem with c at once, and
// returns the users and clients ready for use.
func (c *Config) check() (*directory, map[string]*client, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.KeyRotationPeriod == 0 {
		c.KeyRotationPeriod = DefaultKeyRotationPeriod
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	ierr := c.checkIssuer()
	var base string
	if ierr == nil {
		u, _ := url.Parse(c.Issuer)
		base = strings.TrimSuffix(u.EscapedPath(), "/")
	}
	users, uerr := newDirectory(c.Users)
	clients, cerr := newClients(c.Clients, base)
	if err := errors.Join(ierr, uerr, cerr); err != nil {
		return nil, nil, err
	}
	return users, clients, nil
}

func (c *Config) keyringConfig() keyringConfig {
	return keyringConfig{period: c.KeyRotationPeriod, retain: KeyRetention, now: c.Now, log: c.Logger}
}

// checkIssuer refuses issuers the token library would refuse, and plain
// http beyond loopback unless asked for: the login form would send
// passwords in clear text.
func (c *Config) checkIssuer() error {
	if c.Issuer == "" {
		return errors.New("issuer is required: the provider's URL as browsers reach it, such as http://127.0.0.1:9000")
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("issuer %q: want an absolute http(s) URL such as http://127.0.0.1:9000", c.Issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("issuer %q: must have no query, fragment or user info", c.Issuer)
	}
	if u.Scheme == "http" && !loopbackHost(u.Hostname()) && !c.InsecureAllowHTTPIssuer {
		return fmt.Errorf("issuer %q: %w", c.Issuer, ErrPlainHTTPIssuer)
	}
	return nil
}

// loopbackHost reports whether host names this machine only.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// build assembles the provider once cfg is known to be valid.
func build(cfg Config, users *directory, clients map[string]*client, keys *keyring) (*Provider, error) {
	issuerURL, _ := url.Parse(cfg.Issuer)
	base := strings.TrimSuffix(issuerURL.EscapedPath(), "/")
	p := &Provider{
		issuer:  cfg.Issuer,
		base:    base,
		log:     cfg.Logger,
		now:     cfg.Now,
		keys:    keys,
		limits:  newLoginLimits(),
		csrf:    http.NewCrossOriginProtection(),
		demo:    isDemo(cfg.Users),
		clients: clients,
	}
	p.store = newStore(clients, users, keys, cfg.Now, cfg.Logger)

	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	opts := []op.Option{
		// The provider sets no cookies, so cross-origin callers (a
		// single-page app calling the token endpoint) need no credentials.
		op.WithCORSOptions(&cors.Options{
			AllowOriginFunc:  func(string) bool { return true },
			AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
			AllowedHeaders:   []string{"Accept", "Authorization", "Content-Type"},
			AllowCredentials: false,
		}),
	}
	if issuerURL.Scheme == "http" {
		opts = append(opts, op.WithAllowInsecure())
		if loopbackHost(issuerURL.Hostname()) {
			p.log.Info("issuer is plain http: allowed because its host is loopback", "issuer", cfg.Issuer)
		} else {
			p.log.Warn("issuer is plain http on a network address (allowed explicitly): passwords and tokens cross the network unencrypted", "issuer", cfg.Issuer)
		}
	}
	var err error
	p.op, err = op.NewProvider(&op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: base + "/end_session",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeEmail, oidc.ScopeProfile, scopeGroups, oidc.ScopeOfflineAccess},
		SupportedClaims: []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "at_hash", "c_hash",
			"email", "email_verified", "name", "preferred_username", "groups"},
	}, p.store, op.StaticIssuer(cfg.Issuer), opts...)
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", cfg.Issuer, err)
	}
	p.routes()
	return p, nil
}

// isDemo reports whether users are exactly DemoUsers, so the login page
// can name them.
func isDemo(users []User) bool {
	demo := DemoUsers()
	return slices.EqualFunc(users, demo, func(a, b User) bool {
		return a.Email == b.Email && a.Name == b.Name && a.Password == b.Password &&
			a.PasswordHash == b.PasswordHash && slices.Equal(a.Groups, b.Groups)
	})
}

// Handler serves the provider: discovery, JWKS, the OAuth endpoints and
// the login page, at paths relative to the issuer. It sets no cookies.
// routes.go lists the paths.
func (p *Provider) Handler() http.Handler { return p.mux }

// Issuer returns the issuer URL, as discovery and the tokens name it.
func (p *Provider) Issuer() string { return p.issuer }

// Rotate makes a new signing key the current one now, instead of when
// KeyRotationPeriod says. The previous key stays in the JWKS for
// KeyRetention, so tokens it signed still verify. With a DataDir the keys
// are written there; if that fails, Rotate returns the error and the new
// key signs anyway until the next restart.
func (p *Provider) Rotate() error { return p.keys.rotate() }
