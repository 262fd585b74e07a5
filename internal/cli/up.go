package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/gateway"
	"gatehouse/internal/httpserver"
	"gatehouse/internal/idp"
	"gatehouse/internal/session"
	"gatehouse/internal/todo"
	"gatehouse/internal/todo/sqlitestore"
	"gatehouse/internal/todo/todoapi"
	"gatehouse/internal/web"
)

// upConfig is the settings of `gatehouse up`.
type upConfig struct {
	webAddr, gatewayAddr, idpAddr, apiAddr string
	dataDir                                string
	provider, issuerURL                    string
	clientID, clientSecret                 string
	shutdownTimeout                        time.Duration
	log                                    logConfig
}

func (c *upConfig) options() *options {
	o := newOptions("up", "GATEHOUSE_UP_")
	f := o.fs
	f.StringVar(&c.webAddr, "web-addr", "localhost:3000", "the web client's `host:port` (open this in the browser)")
	f.StringVar(&c.gatewayAddr, "gateway-addr", "localhost:8080", "the gateway's `host:port`; the tutorial's :80 needs root")
	f.StringVar(&c.idpAddr, "idp-addr", "localhost:5556", "the embedded OpenID provider's `host:port`")
	f.StringVar(&c.apiAddr, "api-addr", "127.0.0.1:8000", "the Todo API's `host:port`; always loopback, reachable only through the gateway")
	f.StringVar(&c.dataDir, "data-dir", "data", "`directory` for the todos, the provider's keys and the generated secrets")
	f.StringVar(&c.provider, "provider", "", "use this identity `provider` instead of the embedded one: google or oidc")
	f.StringVar(&c.issuerURL, "oidc-issuer-url", "", "issuer `URL` of an external OpenID provider (implies --provider=oidc)")
	f.StringVar(&c.clientID, "client-id", "", "client `id` at the external provider")
	f.StringVar(&c.clientSecret, "client-secret", "", "client `secret` at the external provider")
	f.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long to let requests in flight finish on SIGINT/SIGTERM")
	c.log.register(o)
	o.secret("client-secret")
	return o
}

// external reports whether an external provider replaces the embedded one.
func (c *upConfig) external() bool { return c.provider != "" || c.issuerURL != "" }

func (c *upConfig) validate() error {
	var errs []error
	for _, a := range []struct{ flag, addr string }{{"--web-addr", c.webAddr}, {"--gateway-addr", c.gatewayAddr}, {"--idp-addr", c.idpAddr}, {"--api-addr", c.apiAddr}} {
		if _, _, err := splitHostPort(a.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", a.flag, a.addr, err))
		}
	}
	if host, _, err := net.SplitHostPort(c.apiAddr); err == nil && !loopbackListen(host) {
		errs = append(errs, fmt.Errorf("--api-addr %q: the API has no login of its own and must listen on loopback (127.0.0.1:PORT), reachable only through the gateway", c.apiAddr))
	}
	if c.external() {
		if c.provider != "" && c.provider != "google" && c.provider != "oidc" {
			errs = append(errs, fmt.Errorf("--provider %q: want google or oidc", c.provider))
		}
		if c.provider == "oidc" && c.issuerURL == "" {
			errs = append(errs, errors.New("--provider=oidc needs --oidc-issuer-url"))
		}
		if c.clientID == "" || c.clientSecret == "" {
			errs = append(errs, errors.New("an external provider needs --client-id and --client-secret (register http://<gateway-addr>/oauth2/callback as its redirect URI)"))
		}
	} else if host, _, err := net.SplitHostPort(c.idpAddr); err == nil && !loopbackListen(host) {
		errs = append(errs, fmt.Errorf("--idp-addr %q: the embedded provider's demo users (password \"password\") must not be reachable from the network: keep it on localhost or 127.0.0.1, or use an external provider", c.idpAddr))
	}
	if c.dataDir == "" {
		errs = append(errs, errors.New("--data-dir is empty: name a directory"))
	}
	return errors.Join(errs...)
}

// publicURL is how a browser reaches a service listening on ln, given the
// configured address: the host as given (an empty host or 0.0.0.0 means
// localhost), the port as bound.
func publicURL(configured string, ln net.Listener) string {
	host, _, _ := net.SplitHostPort(configured)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// secrets are generated once and kept in the data directory, so sessions
// survive a restart.
type secrets struct {
	CookieSecret string `json:"cookie_secret"`
	ClientSecret string `json:"client_secret"`
}

func loadSecrets(dir string, logger *slog.Logger) (secrets, error) {
	path := filepath.Join(dir, "secrets.json")
	var s secrets
	b, err := os.ReadFile(path)
	if err == nil {
		// The cookie secret forges any session: others must not read it.
		if info, serr := os.Stat(path); serr == nil && info.Mode().Perm()&0o077 != 0 {
			if cerr := os.Chmod(path, 0o600); cerr != nil {
				return s, fmt.Errorf("%s is readable by others and cannot be made private: %w", path, cerr)
			}
			logger.Warn("secrets file was readable by others; made it private (mode 0600). Consider deleting it to make new secrets", "path", path)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return s, fmt.Errorf("read %s: %w (delete it to make new secrets; everyone is signed out)", path, err)
		}
		if s.CookieSecret != "" && s.ClientSecret != "" {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return s, fmt.Errorf("read secrets: %w", err)
	}
	random := func() string {
		var b [32]byte
		rand.Read(b[:])
		return base64.RawURLEncoding.EncodeToString(b[:])
	}
	if s.CookieSecret == "" {
		s.CookieSecret = random()
	}
	if s.ClientSecret == "" {
		s.ClientSecret = random()
	}
	b, _ = json.MarshalIndent(s, "", "  ")
	// Written to a new private file and renamed into place: an existing
	// file's looser mode is not kept, and a crash leaves no half file.
	tmp, err := os.CreateTemp(dir, ".secrets-*.json")
	if err != nil {
		return s, fmt.Errorf("write secrets: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return s, fmt.Errorf("write secrets: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return s, fmt.Errorf("write secrets: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return s, fmt.Errorf("write secrets: %w", err)
	}
	return s, nil
}

const upSynopsis = `Usage: gatehouse up [--setting=value ...]

Runs the whole system in one process, as the tutorial's compose file does:
the web client (--web-addr), the gateway (--gateway-addr) in front of the
Todo API (--api-addr, loopback only), and an OpenID provider for local use
(--idp-addr) with the demo users alice@example.com and bob@example.com,
password "password". Secrets and data are kept in --data-dir, so sessions
and todos survive a restart. With --provider=google or --oidc-issuer-url
(plus --client-id and --client-secret) it signs in there instead.`

func runUp(ctx context.Context, e *env, args []string) int {
	var c upConfig
	o := c.options()
	if code, ok := parseOrExit(o, args, e, upSynopsis); !ok {
		return code
	}
	logger, err := c.log.logger(e.stderr)
	if err == nil {
		err = c.validate()
	} else {
		err = errors.Join(err, c.validate())
	}
	if err != nil {
		reportConfig(e.stderr, "up", err)
		return 2
	}
	if err := serveUp(ctx, &c, logger, e); err != nil {
		logger.Error("gatehouse up stopped", "error", err)
		return 1
	}
	return 0
}

// listeners opens every address first, so the public URLs are known
// (and a taken port is reported) before anything starts.
type listeners struct{ web, gateway, idp, api net.Listener }

func (l *listeners) close() {
	for _, ln := range []net.Listener{l.web, l.gateway, l.idp, l.api} {
		if ln != nil {
			ln.Close()
		}
	}
}

func serveUp(ctx context.Context, c *upConfig, logger *slog.Logger, e *env) error {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("create --data-dir: %w", err)
	}
	sec, err := loadSecrets(c.dataDir, logger)
	if err != nil {
		return err
	}
	var ls listeners
	defer ls.close()
	for _, l := range []struct {
		dst  *net.Listener
		addr string
		skip bool
	}{{&ls.api, c.apiAddr, false}, {&ls.idp, c.idpAddr, c.external()}, {&ls.gateway, c.gatewayAddr, false}, {&ls.web, c.webAddr, false}} {
		if l.skip {
			continue
		}
		if *l.dst, err = httpserver.Listen(ctx, l.addr); err != nil {
			return err
		}
	}
	webURL := publicURL(c.webAddr, ls.web)
	gatewayURL := publicURL(c.gatewayAddr, ls.gateway)
	apiURL := "http://" + ls.api.Addr().String()

	// The Todo API on the embedded store.
	store, err := sqlitestore.Open(ctx, filepath.Join(c.dataDir, "todos.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	apiLog := logger.With("service", "api")
	api := todoapi.New(todoapi.Config{Service: todo.NewService(store, nil), Store: store, Logger: apiLog})

	// The identity provider: embedded, or the one given.
	gcfg := gateway.Config{
		Provider:           c.provider,
		IssuerURL:          c.issuerURL,
		ClientID:           c.clientID,
		ClientSecret:       c.clientSecret,
		RedirectURL:        gatewayURL + "/oauth2/callback",
		EmailDomains:       []string{"*"},
		Cookie:             session.CookieConfig{Insecure: true}, // plain-http localhost, as in the tutorial
		Upstreams:          []string{apiURL},
		SetXAuthRequest:    true,
		SkipProviderButton: true,
		SkipAuthPreflight:  true,
		WhitelistDomains:   []string{hostPort(webURL)},
		CORSAllowedOrigins: []string{webURL},
		Logger:             logger.With("service", "gateway"),
	}
	var idpHandler http.Handler
	var idpURL string
	if !c.external() {
		idpURL = publicURL(c.idpAddr, ls.idp)
		p, err := idp.Open(ctx, idp.Config{
			Issuer:  idpURL,
			DataDir: filepath.Join(c.dataDir, "idp"),
			Users:   idp.DemoUsers(),
			Clients: []idp.Client{{
				ID:                     "gatehouse",
				Secret:                 sec.ClientSecret,
				RedirectURIs:           []string{gatewayURL + "/oauth2/callback"},
				PostLogoutRedirectURIs: []string{webURL + "/login"},
			}},
			Logger: logger.With("service", "idp"),
		})
		if err != nil {
			return fmt.Errorf("identity provider: %w", err)
		}
		idpHandler = p.Handler()
		gcfg.Provider, gcfg.IssuerURL, gcfg.ClientID, gcfg.ClientSecret = "oidc", idpURL, "gatehouse", sec.ClientSecret
		gcfg.Scopes = []string{"openid", "email", "profile", "groups", "offline_access"}
	}
	key, err := session.DecodeSecret(sec.CookieSecret)
	if err != nil {
		return fmt.Errorf("cookie secret in %s: %w", filepath.Join(c.dataDir, "secrets.json"), err)
	}
	if gcfg.Codec, err = session.NewCodec(key); err != nil {
		return err
	}
	gw, err := gateway.New(gcfg)
	if err != nil {
		return fmt.Errorf("gateway: %w", err)
	}
	webHandler, err := web.New(web.Config{APIURL: gatewayURL, PublicURL: webURL, Logger: logger.With("service", "web")})
	if err != nil {
		return fmt.Errorf("web client: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	serve := func(name string, ln net.Listener, h http.Handler, cfg httpserver.Config) {
		cfg.ShutdownTimeout = c.shutdownTimeout
		l := logger.With("service", name)
		l.Info(name+" listening", "addr", ln.Addr().String())
		wg.Go(func() {
			if err := httpserver.Serve(ctx, ln, h, l, cfg); err != nil {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		})
	}
	serve("api", ls.api, api, httpserver.Config{})
	if idpHandler != nil {
		serve("idp", ls.idp, idpHandler, httpserver.Config{})
	}
	serve("gateway", ls.gateway, gw, httpserver.Config{WriteTimeout: -1})
	serve("web", ls.web, webHandler, httpserver.Config{})
	ls = listeners{} // owned by the servers now
	wg.Go(func() { gw.Run(ctx) })

	// Announce once the gateway has discovered the provider, or after ten
	// seconds without it (an external provider may be unreachable for a
	// while; the gateway keeps retrying).
	deadline := time.Now().Add(10 * time.Second)
	for !gw.Ready() && ctx.Err() == nil && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	if ctx.Err() == nil {
		logger.Info("gatehouse is up", "open", webURL, "gateway", gatewayURL, "idp", idpURL, "provider_ready", gw.Ready())
		fmt.Fprintf(e.stdout, "\nGatehouse is up: open %s\n", webURL)
		if !c.external() {
			fmt.Fprintf(e.stdout, "Sign in as alice@example.com or bob@example.com, password \"password\".\n")
		} else if !gw.Ready() {
			fmt.Fprintf(e.stdout, "The identity provider is not answering yet; sign-in works as soon as it does (see the log).\n")
		}
		fmt.Fprintf(e.stdout, "API through the gateway: %s/headers  ·  API docs: %s/docs  ·  Ctrl-C stops.\n\n", gatewayURL, gatewayURL)
	}
	<-ctx.Done()
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// hostPort turns http://host:port into host:port for --whitelist-domain.
func hostPort(u string) string {
	_, rest, _ := strings.Cut(u, "://")
	return rest
}
