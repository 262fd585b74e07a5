package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/idp"
)

// idpConfig is the settings of `gatehouse idp`.
type idpConfig struct {
	addr             string
	issuer           string
	usersFile        string // --config: the YAML file of users and clients
	dataDir          string
	clientSecret     string
	clientSecretFile string
	redirectURIs     []string
	postLogoutURIs   []string
	demoOnNetwork    bool
	httpIssuer       bool
	keyRotation      time.Duration
	shutdownTimeout  time.Duration
	log              logConfig
}

const (
	idpEnvPrefix = "GATEHOUSE_IDP_"
	// The demo client's name and defaults: the gateway's callback and the
	// web client's login page of the tutorial.
	demoClientID          = "gatehouse"
	defaultRedirectURI    = "http://localhost:8080/oauth2/callback"
	defaultPostLogoutURI  = "http://localhost:3000/login"
	insecureDemoUsersFlag = "--insecure-demo-users-on-network"
)

// options binds the settings. Unlike the other commands, --config names
// the YAML file of users and clients, not a TOML settings file: the flag
// is bound here rather than by newOptions (so parse never reads the file
// as TOML), and its environment variable is applied by runIDP.
func (c *idpConfig) options() *options {
	fs := flag.NewFlagSet("idp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o := &options{fs: fs, envPrefix: idpEnvPrefix, aliases: map[string][]string{}, fileKeys: map[string]string{},
		lists: map[string]bool{}, secrets: map[string]bool{}}
	fs.StringVar(&c.usersFile, "config", "", "read users and clients from this YAML `file` (without it: the demo users and one client, \"gatehouse\")")
	fs.StringVar(&c.addr, "addr", "127.0.0.1:9000", "listen on this `host:port` (port 0 picks a free port)")
	fs.StringVar(&c.issuer, "issuer", "", "the provider's `URL` as browsers and clients reach it (default: http://<addr>, with localhost for an unspecified host)")
	fs.StringVar(&c.dataDir, "data-dir", "data", "`directory` for the signing keys (idp-signing-keys.json, mode 0600; created if missing)")
	fs.StringVar(&c.clientSecret, "client-secret", "", "`secret` of the demo client \"gatehouse\"; required without --config (make one: gatehouse secret)")
	fs.StringVar(&c.clientSecretFile, "client-secret-file", "", "read the demo client's secret from this `file`")
	o.list(&c.redirectURIs, "redirect-uri", "redirect-uris", "redirect `URI` of the demo client (repeatable; default "+defaultRedirectURI+")")
	o.list(&c.postLogoutURIs, "post-logout-redirect-uri", "post-logout-redirect-uris", "post-logout redirect `URI` of the demo client (repeatable; default "+defaultPostLogoutURI+")")
	fs.BoolVar(&c.demoOnNetwork, strings.TrimPrefix(insecureDemoUsersFlag, "--"), false, "allow the demo users on an --addr other machines can reach (anyone who reaches it can sign in as them)")
	fs.BoolVar(&c.httpIssuer, "insecure-http-issuer", false, "allow an http:// --issuer whose host is not loopback (passwords and tokens cross the network unencrypted)")
	fs.DurationVar(&c.keyRotation, "key-rotation-period", idp.DefaultKeyRotationPeriod, "replace the signing key once it is this old (negative: never); the old key stays published until the tokens it signed expire")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests in flight finish on SIGINT/SIGTERM")
	c.log.register(o)
	o.secret("client-secret")
	return o
}

// build validates the settings, reads the users file, and returns the
// provider's configuration without its Issuer and Logger (known once
// listening). Every problem is reported at once.
func (c *idpConfig) build() (idp.Config, error) {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	host, _, err := splitHostPort(c.addr)
	if err != nil {
		add("--addr %q: %w; for example --addr=127.0.0.1:9000", c.addr, err)
	}
	if c.dataDir == "" {
		add("--data-dir is empty: name a directory for the signing keys, for example --data-dir=data")
	}
	if c.issuer != "" {
		if err := checkIssuerFlag(c.issuer, c.httpIssuer); err != nil {
			errs = append(errs, err)
		}
	}
	if c.shutdownTimeout <= 0 {
		add("--shutdown-timeout %v: must be positive, for example 15s", c.shutdownTimeout)
	}
	secret, err := secretValue(c.clientSecret, "client-secret-file", c.clientSecretFile)
	if err != nil {
		errs = append(errs, err)
	}
	cfg := idp.Config{DataDir: c.dataDir, KeyRotationPeriod: c.keyRotation, InsecureAllowHTTPIssuer: c.httpIssuer}
	validate := true // the users and clients, once they could be read
	if c.usersFile != "" {
		if secret != "" || len(c.redirectURIs) > 0 || len(c.postLogoutURIs) > 0 {
			add("--client-secret, --redirect-uri and --post-logout-redirect-uri describe the demo client and apply only without --config: list the client under clients: in %s", c.usersFile)
		}
		users, clients, err := readIDPFile(c.usersFile)
		if err != nil {
			errs = append(errs, err)
		}
		cfg.Users, cfg.Clients = users, clients
		validate = err == nil
	} else {
		if secret == "" {
			add("--client-secret (%sCLIENT_SECRET) is required without --config: it is the secret of the demo client %q; make one with: gatehouse secret",
				idpEnvPrefix, demoClientID)
		}
		if err == nil && !loopbackListen(host) && !c.demoOnNetwork {
			add("--addr %s can be reached from other machines, and without --config anyone who reaches it can sign in as the demo users "+
				"(their password is public): listen on 127.0.0.1, give --config with your own users, or pass %s",
				c.addr, insecureDemoUsersFlag)
		}
		redirects, logouts := c.redirectURIs, c.postLogoutURIs
		if len(redirects) == 0 {
			redirects = []string{defaultRedirectURI}
		}
		if len(logouts) == 0 {
			logouts = []string{defaultPostLogoutURI}
		}
		cfg.Users = idp.DemoUsers()
		cfg.Clients = []idp.Client{{ID: demoClientID, Secret: secret, RedirectURIs: redirects, PostLogoutRedirectURIs: logouts}}
	}
	if validate {
		// The users and clients, with a stand-in issuer: --issuer was
		// checked above, and the default is only known once listening.
		check := cfg
		check.Issuer = "http://127.0.0.1"
		if err := check.Validate(); err != nil {
			for _, e := range flatten(err) {
				if c.usersFile != "" {
					e = fmt.Errorf("config file %s: %w", c.usersFile, e)
				} else {
					e = fmt.Errorf("demo client: %w (see --redirect-uri, --post-logout-redirect-uri)", e)
				}
				errs = append(errs, e)
			}
		}
	}
	return cfg, errors.Join(errs...)
}

// checkIssuerFlag checks --issuer as the provider will, naming the flags.
func checkIssuerFlag(issuer string, allowHTTP bool) error {
	cfg := idp.Config{Issuer: issuer, InsecureAllowHTTPIssuer: allowHTTP,
		Users: idp.DemoUsers(), Clients: []idp.Client{{ID: "x", RedirectURIs: []string{"http://x/"}}}}
	err := cfg.Validate()
	if err == nil {
		return nil
	}
	if errors.Is(err, idp.ErrPlainHTTPIssuer) {
		return fmt.Errorf("--issuer %q is plain http on a host that is not loopback: passwords and tokens would cross the network unencrypted; "+
			"use https (behind a TLS proxy), a loopback host, or pass --insecure-http-issuer", issuer)
	}
	return fmt.Errorf("--issuer: %w", err)
}

// defaultIssuer is http://<listen address>, naming localhost for an
// unspecified host (0.0.0.0, ::, empty), which no browser can visit.
func defaultIssuer(addr net.Addr) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// idpFile is the YAML --config file.
type idpFile struct {
	Users   []idpFileUser   `yaml:"users"`
	Clients []idpFileClient `yaml:"clients"`
}

type idpFileUser struct {
	Email        string   `yaml:"email"`
	Name         string   `yaml:"name"`
	Password     string   `yaml:"password"`
	PasswordHash string   `yaml:"password_hash"`
	Groups       []string `yaml:"groups"`
}

type idpFileClient struct {
	ID                     string   `yaml:"id"`
	Secret                 string   `yaml:"secret"`
	RedirectURIs           []string `yaml:"redirect_uris"`
	PostLogoutRedirectURIs []string `yaml:"post_logout_redirect_uris"`
}

// yamlTypeNames turns the decoder's Go type names into the file's words.
var yamlTypeNames = strings.NewReplacer(
	"cli.idpFileUser", "a user (email, name, password, password_hash, groups)",
	"cli.idpFileClient", "a client (id, secret, redirect_uris, post_logout_redirect_uris)",
	"cli.idpFile", "the top level (users:, clients:)",
	"[]cli.idpFileUser", "a list of users", "[]cli.idpFileClient", "a list of clients",
	"[]string", "a list", "!!seq", "a list", "!!map", "a mapping", "!!str", "a string",
)

// The keys each part of the file takes, for messages about unknown ones.
var (
	idpFileKeys   = []string{"users", "clients"}
	idpUserKeys   = []string{"email", "name", "password", "password_hash", "groups"}
	idpClientKeys = []string{"id", "secret", "redirect_uris", "post_logout_redirect_uris"}
)

// readIDPFile reads the users and clients. Unknown keys are refused (a
// misspelt password_hash must not leave an account without a password
// check, or a misspelt redirect_uris a client without its callback), each
// named with its line.
func readIDPFile(path string) ([]idp.User, []idp.Client, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read --config: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, nil, fmt.Errorf("config file %s is not valid YAML: %w", path, err)
	}
	if errs := unknownYAMLKeys(path, &root); len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	var f idpFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, nil, fmt.Errorf("config file %s: %w", path, err)
		}
		var errs []error
		for _, msg := range te.Errors {
			errs = append(errs, fmt.Errorf("config file %s: %s", path, yamlTypeNames.Replace(msg)))
		}
		return nil, nil, errors.Join(errs...)
	}
	var users []idp.User
	for _, u := range f.Users {
		users = append(users, idp.User{Email: u.Email, Name: u.Name, Password: u.Password, PasswordHash: u.PasswordHash, Groups: u.Groups})
	}
	var clients []idp.Client
	for _, c := range f.Clients {
		clients = append(clients, idp.Client{ID: c.ID, Secret: c.Secret, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs})
	}
	return users, clients, nil
}

// unknownYAMLKeys walks the file and reports every key the file format
// does not have, with its line and the keys that are allowed there.
func unknownYAMLKeys(path string, root *yaml.Node) []error {
	type problem struct {
		line int
		err  error
	}
	var problems []problem
	check := func(m *yaml.Node, where string, allowed []string) {
		if m.Kind != yaml.MappingNode {
			return // the decoder reports the wrong type
		}
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			if !slices.Contains(allowed, k.Value) {
				problems = append(problems, problem{k.Line, fmt.Errorf("config file %s line %d: unknown key %q%s; the keys there are %s",
					path, k.Line, k.Value, where, strings.Join(allowed, ", "))})
			}
		}
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	top := root.Content[0]
	check(top, "", idpFileKeys)
	for i := 0; top.Kind == yaml.MappingNode && i+1 < len(top.Content); i += 2 {
		key, list := top.Content[i].Value, top.Content[i+1]
		if list.Kind != yaml.SequenceNode {
			continue
		}
		for j, item := range list.Content {
			switch key {
			case "users":
				check(item, fmt.Sprintf(" in users[%d]", j), idpUserKeys)
			case "clients":
				check(item, fmt.Sprintf(" in clients[%d]", j), idpClientKeys)
			}
		}
	}
	slices.SortStableFunc(problems, func(a, b problem) int { return a.line - b.line })
	var errs []error
	for _, p := range problems {
		errs = append(errs, p.err)
	}
	return errs
}

const idpSynopsis = `Usage: gatehouse idp [--setting=value ...]

Runs a development OpenID provider: discovery, JWKS, the authorization-code
flow with PKCE, refresh tokens (rotated), userinfo, RP-initiated logout and
its own login page. For local use and tests: sign-ins and tokens live in
memory; the signing keys are kept in --data-dir.

Without --config it serves two demo users, alice@example.com (name Alice,
group admins) and bob@example.com (Bob), both with the password
"password", and one client, "gatehouse", whose secret --client-secret sets.
Because that password is public, it then listens on loopback addresses
only, unless told --insecure-demo-users-on-network.

With --config FILE, the users and clients come from a YAML file:

  users:
    - email: alice@example.com
      name: Alice
      password: s3cret                 # plain, for local use
      groups: [admins]
    - email: bob@example.com
      password_hash: $2a$10$...        # bcrypt: htpasswd -bnBC 10 "" 'PASSWORD' | tr -d ':\n'
  clients:
    - id: gatehouse
      secret: change-me                # empty: a public client, PKCE (S256) required
      redirect_uris: [http://localhost:8080/oauth2/callback]
      post_logout_redirect_uris: [http://localhost:3000/login]

A gateway in front of the tutorial's API:

  gatehouse idp --client-secret=SECRET &
  gatehouse gateway --oidc-issuer-url=http://127.0.0.1:9000 --client-id=gatehouse \
    --client-secret=SECRET --cookie-secret="$(gatehouse secret)" --email-domain='*' \
    --scope='openid email profile groups' --cookie-secure=false \
    --http-address=127.0.0.1:8080 --redirect-url=http://localhost:8080/oauth2/callback \
    --upstream=http://127.0.0.1:8000

ID tokens and userinfo carry email and email_verified (scope email), name
and preferred_username (scope profile), and groups (scope groups, and also
with email or profile). Refresh tokens come with scope offline_access.`

func runIDP(ctx context.Context, e *env, args []string) int {
	var c idpConfig
	o := c.options()
	// parse must not read GATEHOUSE_IDP_CONFIG as the TOML settings file.
	hidden := func(k string) string {
		if k == idpEnvPrefix+"CONFIG" {
			return ""
		}
		return e.getenv(k)
	}
	err := o.parse(args, hidden)
	if errors.Is(err, errHelp) {
		idpUsage(o, e.stdout)
		return 0
	}
	if err != nil {
		reportConfig(e.stderr, "idp", err)
		return 2
	}
	if c.usersFile == "" {
		c.usersFile = e.getenv(idpEnvPrefix + "CONFIG")
	}
	logger, lerr := c.log.logger(e.stderr)
	cfg, err := c.build()
	if err = errors.Join(lerr, err); err != nil {
		reportConfig(e.stderr, "idp", err)
		return 2
	}
	if err := serveIDP(ctx, &c, cfg, logger); err != nil {
		logger.Error("idp stopped", "error", err)
		return 1
	}
	return 0
}

func serveIDP(ctx context.Context, c *idpConfig, cfg idp.Config, logger *slog.Logger) error {
	ln, err := httpserver.Listen(ctx, c.addr)
	if err != nil {
		return err
	}
	cfg.Issuer = c.issuer
	if cfg.Issuer == "" {
		cfg.Issuer = defaultIssuer(ln.Addr())
	}
	cfg.Logger = logger
	p, err := idp.Open(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	if c.usersFile == "" {
		logger.Warn("serving the built-in demo users alice@example.com and bob@example.com, whose password is public; use --config for real accounts",
			"client_id", demoClientID, "redirect_uris", cfg.Clients[0].RedirectURIs)
	}
	h := p.Handler()
	if u, _ := url.Parse(p.Issuer()); u.Path != "" {
		// An issuer with a path is served below that path (a proxy in
		// front that strips it would need the issuer without it).
		h = http.StripPrefix(u.Path, h)
	}
	logger.Info("idp listening", "addr", ln.Addr().String(), "issuer", p.Issuer(),
		"discovery", p.Issuer()+"/.well-known/openid-configuration", "users", len(cfg.Users), "clients", len(cfg.Clients))
	err = httpserver.Serve(ctx, ln, h, logger, httpserver.Config{ShutdownTimeout: c.shutdownTimeout})
	logger.Info("idp stopped")
	return err
}

// idpUsage writes the settings with their flag and environment spellings
// (the idp has no TOML settings file: --config is its users file).
func idpUsage(o *options, w io.Writer) {
	fmt.Fprintf(w, "%s\n\nSettings (flag, then environment; a flag wins):\n\n", idpSynopsis)
	o.fs.VisitAll(func(f *flag.Flag) {
		kind, help := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  --%s %s\n      %s\n", f.Name, kind, help)
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "[]" {
			fmt.Fprintf(w, "      default: %s\n", f.DefValue)
		}
		fmt.Fprintf(w, "      env: %s\n", strings.Join(o.envNames(f.Name), ", "))
	})
}
