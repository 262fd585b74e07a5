package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/session"
	"gatehouse/internal/web"
)

// webConfig is the settings of `gatehouse web`.
type webConfig struct {
	addr            string
	apiURL          string
	publicURL       string
	cookieName      string
	shutdownTimeout time.Duration
	log             logConfig
}

func (c *webConfig) options() *options {
	o := newOptions("web", "GATEHOUSE_WEB_")
	o.fs.StringVar(&c.addr, "addr", "localhost:3000", "listen on this `host:port` (port 0 picks a free port)")
	o.fs.StringVar(&c.apiURL, "api-url", web.DefaultAPIURL, "the gateway's public `URL` as the browser reaches it; the Todo API is at its root")
	o.fs.StringVar(&c.publicURL, "public-url", "", "this client's public `URL` as the browser reaches it, where the gateway sends the user back after sign-in and sign-out (default http://<addr>)")
	o.fs.StringVar(&c.cookieName, "cookie-name", session.DefaultCookieName, "the gateway's session cookie `name` (its --cookie-name); pages without it redirect to /login")
	o.fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests in flight finish on SIGINT/SIGTERM")
	c.log.register(o)
	return o
}

// validate reports every problem with the settings the web package does
// not check itself.
func (c *webConfig) validate() error {
	var errs []error
	if _, _, err := splitHostPort(c.addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: %w; for example --addr=localhost:3000", c.addr, err))
	}
	if c.shutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %v: must be positive, for example 15s", c.shutdownTimeout))
	}
	return errors.Join(errs...)
}

// webPublicURL is --public-url, or else http://<addr> as the browser
// reaches it: the real port when addr asks for any (port 0), and
// localhost for an address that listens on every interface.
func (c *webConfig) webPublicURL(addr string) string {
	if c.publicURL != "" {
		return c.publicURL
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func (c *webConfig) web(addr string, logger *slog.Logger) web.Config {
	return web.Config{APIURL: c.apiURL, PublicURL: c.webPublicURL(addr), CookieName: c.cookieName, Logger: logger}
}

const webSynopsis = `Usage: gatehouse web [--setting=value ...]

Runs the todo web client (the tutorial's Next.js todo-client): the todo
list at /, the headers the API saw at /headers, and a sign-in page at
/login. The browser calls the Todo API through the gateway at --api-url,
cross-origin, with the gateway's session cookie; pages without that cookie
redirect to /login.

The gateway must allow this client: --cors-allowed-origin=<public-url>
(and --whitelist-domain=<host:port> of --public-url, so it may send the
user back here). Cookies are per host, not per port: give the client and
the gateway the same host name (for example localhost:3000 and
localhost:8080), or the gateway's cookie never reaches this client.`

func runWeb(ctx context.Context, e *env, args []string) int {
	var c webConfig
	o := c.options()
	if code, ok := parseOrExit(o, args, e, webSynopsis); !ok {
		return code
	}
	logger, err := c.log.logger(e.stderr)
	verr := c.validate()
	if err == nil && verr == nil {
		// Checked before listening, so a bad setting is reported as one
		// (exit 2) and not as a failure to serve.
		_, verr = web.New(c.web(c.addr, slog.New(slog.DiscardHandler)))
	}
	if err = errors.Join(err, verr); err != nil {
		reportConfig(e.stderr, "web", err)
		return 2
	}
	logger.Debug("settings", "addr", c.addr, "api_url", c.apiURL, "public_url", c.publicURL,
		"cookie_name", c.cookieName, "shutdown_timeout", c.shutdownTimeout)
	if err := serveWeb(ctx, &c, logger); err != nil {
		logger.Error("web stopped", "error", err)
		return 1
	}
	return 0
}

func serveWeb(ctx context.Context, c *webConfig, logger *slog.Logger) error {
	ln, err := httpserver.Listen(ctx, c.addr)
	if err != nil {
		return err
	}
	cfg := c.web(listenAddr(c.addr, ln.Addr()), logger)
	h, err := web.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	logger.Info("web listening", "addr", ln.Addr().String(), "url", cfg.PublicURL+"/", "api_url", cfg.APIURL)
	err = httpserver.Serve(ctx, ln, h, logger, httpserver.Config{ShutdownTimeout: c.shutdownTimeout})
	logger.Info("web stopped")
	return err
}

// listenAddr is the address the browser should use: the configured host
// name (localhost stays localhost, it is the cookie's host) with the port
// actually bound.
func listenAddr(configured string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(configured)
	if err != nil {
		return bound.String()
	}
	_, port, err := net.SplitHostPort(bound.String())
	if err != nil {
		return bound.String()
	}
	return net.JoinHostPort(host, port)
}
