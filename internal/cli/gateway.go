package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/gateway"
	"gatehouse/internal/httpserver"
	"gatehouse/internal/session"
)

// gatewayConfig is the settings of `gatehouse gateway`, spelled as
// oauth2-proxy spells them: --flag, OAUTH2_PROXY_FLAG, flag in a TOML file.
type gatewayConfig struct {
	httpAddress    string
	metricsAddress string

	provider, issuerURL, clientID, clientSecret, clientSecretFile string
	scope, redirectURL, groupsClaim                               string
	allowUnverifiedEmail                                          bool

	emailDomains            []string
	authenticatedEmailsFile string
	allowedGroups           []string

	cookieName, cookieSecret, cookieSecretFile, cookiePath, cookieSameSite string
	cookieDomains, cookieSecretsPrevious                                   []string
	cookieExpire, cookieRefresh                                            time.Duration
	cookieSecure, cookieHTTPOnly                                           bool

	whitelistDomains []string
	upstreams        []string
	passHostHeader   bool
	upstreamTimeout  time.Duration
	flushInterval    time.Duration
	reverseProxy     bool
	trustedProxyIPs  []string

	setXAuthRequest, setAuthorizationHeader, passAuthorizationHeader bool
	passAccessToken, passUserHeaders                                 bool
	skipAuthPreflight, skipProviderButton                            bool
	corsAllowedOrigins                                               []string

	shutdownTimeout time.Duration
	log             logConfig
}

func (c *gatewayConfig) options() *options {
	o := newOptions("gateway", "OAUTH2_PROXY_")
	f := o.fs
	f.StringVar(&c.httpAddress, "http-address", "127.0.0.1:4180", "listen on this `host:port` (an http:// prefix, as the tutorial writes it, is accepted)")
	f.StringVar(&c.metricsAddress, "metrics-address", "", "serve Prometheus metrics at /metrics on this `host:port` (off when empty)")

	f.StringVar(&c.provider, "provider", "", "identity `provider`: oidc (any OpenID provider, with --oidc-issuer-url) or google (the default without an issuer URL, as in oauth2-proxy)")
	f.StringVar(&c.issuerURL, "oidc-issuer-url", "", "the OpenID provider's issuer `URL` (discovery at /.well-known/openid-configuration)")
	f.StringVar(&c.clientID, "client-id", "", "OAuth client `id` registered at the provider")
	f.StringVar(&c.clientSecret, "client-secret", "", "OAuth client `secret`")
	f.StringVar(&c.clientSecretFile, "client-secret-file", "", "read the client secret from this `file`")
	f.StringVar(&c.scope, "scope", "openid email profile", "space-separated OAuth `scopes`")
	f.StringVar(&c.redirectURL, "redirect-url", "", "the callback `URL` registered at the provider, e.g. http://localhost/oauth2/callback (default: from the request's host)")
	f.StringVar(&c.groupsClaim, "oidc-groups-claim", "groups", "ID-token `claim` that lists the user's groups")
	f.BoolVar(&c.allowUnverifiedEmail, "insecure-oidc-allow-unverified-email", false, "accept ID tokens whose email_verified is not true")

	o.list(&c.emailDomains, "email-domain", "email-domains", "allow users of this email `domain` (\"*\" for any; repeatable)")
	f.StringVar(&c.authenticatedEmailsFile, "authenticated-emails-file", "", "allow the email addresses listed in this `file`, one per line")
	o.list(&c.allowedGroups, "allowed-group", "allowed-groups", "require membership of one of these `groups` (repeatable)")

	f.StringVar(&c.cookieName, "cookie-name", session.DefaultCookieName, "session cookie `name`")
	f.StringVar(&c.cookieSecret, "cookie-secret", "", "`secret` sealing the cookies: 16, 24 or 32 bytes, raw or base64 (make one: gatehouse secret)")
	f.StringVar(&c.cookieSecretFile, "cookie-secret-file", "", "read the cookie secret from this `file`")
	o.list(&c.cookieSecretsPrevious, "cookie-secret-previous", "", "an earlier cookie `secret` that still opens sessions but never seals them, for rotating --cookie-secret without signing everyone out (repeatable)")
	o.list(&c.cookieDomains, "cookie-domain", "cookie-domains", "cookie Domain `attribute` (default: the request's host only)")
	f.StringVar(&c.cookiePath, "cookie-path", "/", "cookie Path `attribute`")
	f.DurationVar(&c.cookieExpire, "cookie-expire", 168*time.Hour, "session lifetime, enforced in the browser and by the server")
	f.DurationVar(&c.cookieRefresh, "cookie-refresh", 0, "refresh tokens once they are this old (0: only when expired)")
	f.BoolVar(&c.cookieSecure, "cookie-secure", true, "mark cookies Secure (false only for plain-http development, as the tutorial does)")
	f.BoolVar(&c.cookieHTTPOnly, "cookie-httponly", true, "mark cookies HttpOnly (cannot be turned off)")
	f.StringVar(&c.cookieSameSite, "cookie-samesite", "lax", "cookie SameSite `mode`: lax, strict or none")

	o.list(&c.whitelistDomains, "whitelist-domain", "whitelist-domains", "`domain` that rd may redirect to: example.com, .example.com (and subdomains), host:port, host:* (repeatable)")
	o.list(&c.upstreams, "upstream", "upstreams", "`URL` to proxy signed-in requests to: http://host:port[/path/], file:///dir#/path/, static://CODE (repeatable)")
	o.alias("upstream", "OAUTH2_PROXY_UPSTREAM") // the tutorial's compose file
	f.BoolVar(&c.passHostHeader, "pass-host-header", true, "send the client's Host upstream (as nginx's proxy_set_header Host $host)")
	f.DurationVar(&c.upstreamTimeout, "upstream-timeout", 30*time.Second, "wait this long for an upstream's response headers, then answer 504")
	f.DurationVar(&c.flushInterval, "flush-interval", 0, "flush upstream responses this often while streaming (0: as ReverseProxy decides)")
	f.BoolVar(&c.reverseProxy, "reverse-proxy", false, "run behind a proxy such as nginx: believe X-Forwarded-* from --trusted-proxy-ip")
	o.list(&c.trustedProxyIPs, "trusted-proxy-ip", "trusted-proxy-ips", "`CIDR` or IP of a proxy whose X-Forwarded-* headers are believed (default with --reverse-proxy: loopback and private networks)")

	f.BoolVar(&c.setXAuthRequest, "set-xauthrequest", false, "add X-Auth-Request-User, -Email, -Preferred-Username, -Groups to /oauth2/auth answers")
	f.BoolVar(&c.setAuthorizationHeader, "set-authorization-header", false, "add Authorization: Bearer <id_token> to /oauth2/auth answers")
	f.BoolVar(&c.passAuthorizationHeader, "pass-authorization-header", false, "send Authorization: Bearer <id_token> upstream")
	f.BoolVar(&c.passAccessToken, "pass-access-token", false, "send X-Forwarded-Access-Token upstream (and X-Auth-Request-Access-Token with --set-xauthrequest)")
	f.BoolVar(&c.passUserHeaders, "pass-user-headers", true, "send X-Forwarded-User, -Email, -Preferred-Username, -Groups upstream")
	f.BoolVar(&c.skipAuthPreflight, "skip-auth-preflight", false, "let OPTIONS requests through without a session")
	f.BoolVar(&c.skipProviderButton, "skip-provider-button", false, "skip the sign-in page and go straight to the provider")
	o.list(&c.corsAllowedOrigins, "cors-allowed-origin", "cors-allowed-origins", "`origin` (scheme://host:port) allowed to call with credentials (repeatable)")

	f.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests in flight finish on SIGINT/SIGTERM")
	c.log.register(o)
	o.secret("client-secret")
	o.secret("cookie-secret")
	o.secret("cookie-secret-previous")
	return o
}

// build validates the settings and turns them into the gateway's Config;
// every problem is reported at once.
func (c *gatewayConfig) build(logger *slog.Logger) (gateway.Config, error) {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	c.httpAddress = strings.TrimPrefix(strings.TrimPrefix(c.httpAddress, "http://"), "https://")
	if _, _, err := splitHostPort(c.httpAddress); err != nil {
		add("--http-address (OAUTH2_PROXY_HTTP_ADDRESS) %q: %w; for example 0.0.0.0:4180", c.httpAddress, err)
	}
	if c.metricsAddress != "" {
		c.metricsAddress = strings.TrimPrefix(c.metricsAddress, "http://")
		if _, _, err := splitHostPort(c.metricsAddress); err != nil {
			add("--metrics-address %q: %w", c.metricsAddress, err)
		}
	}
	secret, err := secretValue(c.clientSecret, "client-secret-file", c.clientSecretFile)
	if err != nil {
		errs = append(errs, err)
	}
	cookieSecret, err := secretValue(c.cookieSecret, "cookie-secret-file", c.cookieSecretFile)
	if err != nil {
		errs = append(errs, err)
	}
	var codec *session.Codec
	if cookieSecret != "" {
		key, err := session.DecodeSecret(cookieSecret)
		if err != nil {
			add("--cookie-secret (OAUTH2_PROXY_COOKIE_SECRET) %w; make one with: gatehouse secret", err)
			key = make([]byte, 32) // reported above; keeps gateway.New from reporting it again
		}
		var previous [][]byte
		for i, s := range c.cookieSecretsPrevious {
			k, err := session.DecodeSecret(s)
			if err != nil {
				add("--cookie-secret-previous (number %d) %w", i+1, err)
				continue
			}
			previous = append(previous, k)
		}
		if codec, err = session.NewCodec(key, session.WithPreviousSecrets(previous...)); err != nil {
			add("--cookie-secret: %w", err)
		}
	}
	var emails []string
	if c.authenticatedEmailsFile != "" {
		list, err := readLines(c.authenticatedEmailsFile)
		if err != nil {
			add("--authenticated-emails-file: %w", err)
		}
		emails = list
	}
	if !c.cookieHTTPOnly {
		add("--cookie-httponly=false is refused: scripts must never read the session cookie")
	}
	if len(c.cookieDomains) > 1 {
		add("--cookie-domain: give one domain (got %d)", len(c.cookieDomains))
	}
	var sameSite http.SameSite
	switch strings.ToLower(c.cookieSameSite) {
	case "lax", "":
		sameSite = http.SameSiteLaxMode
	case "strict":
		sameSite = http.SameSiteStrictMode
	case "none":
		sameSite = http.SameSiteNoneMode
	default:
		add("--cookie-samesite %q: want lax, strict or none", c.cookieSameSite)
	}
	var trusted []netip.Prefix
	for _, s := range c.trustedProxyIPs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				add("--trusted-proxy-ip %q: want an IP or CIDR such as 10.0.0.0/8", s)
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		trusted = append(trusted, p.Masked())
	}
	if len(trusted) > 0 && !c.reverseProxy {
		logger.Warn("--trusted-proxy-ip is set without --reverse-proxy; X-Forwarded-* headers are believed from those addresses anyway")
	}
	cookie := session.CookieConfig{
		Name:     c.cookieName,
		Path:     c.cookiePath,
		Expire:   c.cookieExpire,
		Insecure: !c.cookieSecure,
		SameSite: sameSite,
	}
	if len(c.cookieDomains) == 1 {
		cookie.Domain = c.cookieDomains[0]
	}
	if c.cookieExpire == 0 {
		cookie.Expire = -1 // oauth2-proxy's 0: a browser-session cookie
	}
	cfg := gateway.Config{
		Provider:                     c.provider,
		IssuerURL:                    c.issuerURL,
		ClientID:                     c.clientID,
		ClientSecret:                 secret,
		Scopes:                       strings.Fields(c.scope),
		RedirectURL:                  c.redirectURL,
		GroupsClaim:                  c.groupsClaim,
		InsecureAllowUnverifiedEmail: c.allowUnverifiedEmail,
		EmailDomains:                 c.emailDomains,
		AuthenticatedEmails:          emails,
		AllowedGroups:                c.allowedGroups,
		Cookie:                       cookie,
		Codec:                        codec,
		CookieRefresh:                c.cookieRefresh,
		WhitelistDomains:             c.whitelistDomains,
		Upstreams:                    c.upstreams,
		UseUpstreamHost:              !c.passHostHeader,
		UpstreamTimeout:              c.upstreamTimeout,
		UpstreamFlushInterval:        c.flushInterval,
		ReverseProxy:                 c.reverseProxy || len(trusted) > 0,
		TrustedProxies:               trusted,
		SetXAuthRequest:              c.setXAuthRequest,
		SetAuthorizationHeader:       c.setAuthorizationHeader,
		PassAuthorizationHeader:      c.passAuthorizationHeader,
		PassAccessToken:              c.passAccessToken,
		SkipUserHeaders:              !c.passUserHeaders,
		SkipAuthPreflight:            c.skipAuthPreflight,
		SkipProviderButton:           c.skipProviderButton,
		CORSAllowedOrigins:           c.corsAllowedOrigins,
		Logger:                       logger,
	}
	if c.shutdownTimeout <= 0 {
		add("--shutdown-timeout %v: must be positive", c.shutdownTimeout)
	}
	return cfg, errors.Join(errs...)
}

// readLines reads a list file: one entry per line, blank lines and #
// comments ignored.
func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

const gatewaySynopsis = `Usage: gatehouse gateway [--setting=value ...]

Runs the identity-aware gateway: oauth2-proxy's endpoints (/oauth2/start,
/oauth2/callback, /oauth2/sign_in, /oauth2/sign_out, /oauth2/auth,
/oauth2/userinfo, /ping, /ready), its _oauth2_proxy cookie and its
settings, so an nginx auth_request configuration and OAUTH2_PROXY_*
environment written for oauth2-proxy work unchanged. With --upstream it
also proxies signed-in requests itself, checking the session in-process.

Example (the tutorial's settings, against any OpenID provider):

  gatehouse gateway --oidc-issuer-url=https://accounts.google.com \
    --client-id=ID --client-secret=SECRET --cookie-secret="$(gatehouse secret)" \
    --email-domain='*' --cookie-secure=false --upstream=http://127.0.0.1:8000 \
    --http-address=127.0.0.1:8080 --redirect-url=http://localhost:8080/oauth2/callback`

func runGateway(ctx context.Context, e *env, args []string) int {
	var c gatewayConfig
	o := c.options()
	if code, ok := parseOrExit(o, args, e, gatewaySynopsis); !ok {
		return code
	}
	logger, err := c.log.logger(e.stderr)
	if err != nil {
		reportConfig(e.stderr, "gateway", err)
		return 2
	}
	cfg, err := c.build(logger)
	metrics := gateway.NewMetrics(nil)
	cfg.Metrics = metrics
	var g *gateway.Gateway
	if err == nil {
		g, err = gateway.New(cfg)
	} else if _, gerr := gateway.New(cfg); gerr != nil {
		err = errors.Join(err, gerr)
	}
	if err != nil {
		reportConfig(e.stderr, "gateway", err)
		return 2
	}
	if err := serveGateway(ctx, &c, g, metrics, logger); err != nil {
		logger.Error("gateway stopped", "error", err)
		return 1
	}
	return 0
}

func serveGateway(ctx context.Context, c *gatewayConfig, g *gateway.Gateway, metrics *gateway.Metrics, logger *slog.Logger) error {
	ln, err := httpserver.Listen(ctx, c.httpAddress)
	if err != nil {
		return err
	}
	var mln net.Listener
	if c.metricsAddress != "" {
		if mln, err = httpserver.Listen(ctx, c.metricsAddress); err != nil {
			ln.Close()
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { g.Run(ctx) })
	errc := make(chan error, 1)
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics.Handler())
		logger.Info("metrics listening", "addr", mln.Addr().String())
		wg.Go(func() {
			if err := httpserver.Serve(ctx, mln, mux, slog.New(slog.DiscardHandler), httpserver.Config{ShutdownTimeout: c.shutdownTimeout}); err != nil {
				errc <- fmt.Errorf("metrics: %w", err)
				cancel() // a gateway whose metrics died stops rather than run unobserved
			}
		})
	}
	if !c.cookieSecure {
		logger.Warn("cookies are not Secure (--cookie-secure=false): use this only on plain-http localhost")
	}
	logger.Info("gateway listening", "addr", ln.Addr().String(), "upstreams", c.upstreams)
	err = httpserver.Serve(ctx, ln, g, logger, httpserver.Config{ShutdownTimeout: c.shutdownTimeout, WriteTimeout: -1})
	cancel()
	wg.Wait()
	close(errc)
	for e := range errc {
		err = errors.Join(err, e)
	}
	return err
}

// runSecret prints a fresh cookie secret: 32 random bytes, base64url.
func runSecret(_ context.Context, e *env, _ []string) int {
	var b [32]byte
	rand.Read(b[:])
	fmt.Fprintln(e.stdout, base64.RawURLEncoding.EncodeToString(b[:]))
	return 0
}
