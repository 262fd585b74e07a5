package cli

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"gatehouse/internal/gateway"
	"gatehouse/internal/session"
)

// tutorialCompose is the oauth2-proxy service of the tutorial's
// docker-compose.yml ("OAuth2 Proxy setup"), exactly as written there, with
// the three placeholders replaced by valid values (the cookie secret is
// the one the tutorial shows its command printing).
const tutorialCompose = `
  environment:
    - OAUTH2_PROXY_CLIENT_ID=123456789012-tutorial.apps.googleusercontent.com
    - OAUTH2_PROXY_CLIENT_SECRET=GOCSPX-tutorial-client-secret
    - OAUTH2_PROXY_COOKIE_SECRET=Z23PEwFnj-LNJymv21xtRBo6vaK-cmlp3mMmaaG0AtY=
    - OAUTH2_PROXY_EMAIL_DOMAINS=*
    - OAUTH2_PROXY_REVERSE_PROXY=true
    - OAUTH2_PROXY_REDIRECT_URL=http://localhost/oauth2/callback
    - OAUTH2_PROXY_COOKIE_SECURE=false
    - OAUTH2_PROXY_UPSTREAM=http://todo-api:8000
    - OAUTH2_PROXY_HTTP_ADDRESS=http://0.0.0.0:4180
    - OAUTH2_PROXY_SET_AUTHORIZATION_HEADER=true
    - OAUTH2_PROXY_SET_XAUTHREQUEST=true
    - OAUTH2_PROXY_WHITELIST_DOMAINS=.localhost:3000
  command:
    - --http-address=0.0.0.0:4180
    - --upstream=http://todo-api:8000
    # - --skip-provider-button=true
`

// composeService reads a compose service's environment list and command
// list as docker compose passes them: NAME=value pairs and arguments.
func composeService(t *testing.T, text string) (env map[string]string, args []string) {
	t.Helper()
	env = map[string]string{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasSuffix(line, ":"):
			section = strings.TrimSuffix(line, ":")
		case strings.HasPrefix(line, "- ") && section == "environment":
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "- "), "=")
			if !ok {
				t.Fatalf("compose environment line %q has no =", line)
			}
			env[k] = v
		case strings.HasPrefix(line, "- ") && section == "command":
			args = append(args, strings.TrimPrefix(line, "- "))
		default:
			t.Fatalf("compose line %q not understood", line)
		}
	}
	return env, args
}

// parseGatewaySettings binds the gateway's settings from args and env as
// runGateway does.
func parseGatewaySettings(args []string, env map[string]string) (*gatewayConfig, error) {
	var c gatewayConfig
	err := c.options().parse(args, func(k string) string { return env[k] })
	return &c, err
}

// buildGatewaySettings is parseGatewaySettings then build; it fails the
// test on any error.
func buildGatewaySettings(t *testing.T, args []string, env map[string]string) (*gatewayConfig, gateway.Config) {
	t.Helper()
	c, err := parseGatewaySettings(args, env)
	if err != nil {
		t.Fatalf("parse(%q, %v) = %v", args, env, err)
	}
	cfg, err := c.build(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("build(%q, %v) = %v", args, env, err)
	}
	return c, cfg
}

func writeGatewayFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// gatewayConfigOpts compares gateway.Config values, leaving out what cannot be
// compared (the codec, logger, clock, client and store).
var gatewayConfigOpts = cmp.Options{
	cmpopts.IgnoreFields(gateway.Config{}, "Codec", "Logger", "Now", "HTTPClient", "Sessions", "Metrics"),
	cmpopts.EquateComparable(netip.Prefix{}),
}

// TestGatewayTutorialCompose checks that the tutorial's compose service,
// written for oauth2-proxy, configures the gateway unchanged: with its
// command (the flag and the environment both name the upstream, which must
// not make it a duplicate) and with its environment alone (the
// http://-prefixed OAUTH2_PROXY_HTTP_ADDRESS, the singular
// OAUTH2_PROXY_UPSTREAM).
func TestGatewayTutorialCompose(t *testing.T) {
	env, command := composeService(t, tutorialCompose)
	if len(env) != 12 || len(command) != 2 {
		t.Fatalf("compose block read as %d variables and %d arguments, want 12 and 2", len(env), len(command))
	}
	want := gateway.Config{
		ClientID:         "123456789012-tutorial.apps.googleusercontent.com",
		ClientSecret:     "GOCSPX-tutorial-client-secret",
		Scopes:           []string{"openid", "email", "profile"},
		RedirectURL:      "http://localhost/oauth2/callback",
		GroupsClaim:      "groups",
		EmailDomains:     []string{"*"},
		Cookie:           session.CookieConfig{Name: "_oauth2_proxy", Path: "/", Expire: 168 * time.Hour, Insecure: true, SameSite: http.SameSiteLaxMode},
		WhitelistDomains: []string{".localhost:3000"},
		Upstreams:        []string{"http://todo-api:8000"},
		UpstreamTimeout:  30 * time.Second,
		ReverseProxy:     true,

		SetXAuthRequest:        true,
		SetAuthorizationHeader: true,
	}
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"environment and command", command},
		{"environment alone", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, cfg := buildGatewaySettings(t, tt.args, env)
			if diff := cmp.Diff(want, cfg, gatewayConfigOpts); diff != "" {
				t.Errorf("build(tutorial compose, %q) mismatch (-want +got):\n%s", tt.args, diff)
			}
			if c.httpAddress != "0.0.0.0:4180" {
				t.Errorf("build(tutorial compose, %q) http address = %q, want 0.0.0.0:4180", tt.args, c.httpAddress)
			}
			if cfg.Codec == nil {
				t.Errorf("build(tutorial compose, %q) Codec = nil, want one from OAUTH2_PROXY_COOKIE_SECRET", tt.args)
			}
			if _, err := gateway.New(cfg); err != nil {
				t.Errorf("gateway.New(tutorial compose, %q) = %v", tt.args, err)
			}
		})
	}
}

// TestGatewayPrecedence checks flag > env > file > default for scalars
// and for lists, each list taken whole from one source, never merged.
func TestGatewayPrecedence(t *testing.T) {
	file := writeGatewayFile(t, "gateway.toml", `
cookie_name = "from_file"
cookie_expire = "3h"
set_xauthrequest = false
upstreams = ["http://file-a:1/a/", "http://file-b:2/b/"]
email_domains = ["file.example"]
`)
	env := map[string]string{
		"OAUTH2_PROXY_COOKIE_NAME":      "from_env",
		"OAUTH2_PROXY_COOKIE_EXPIRE":    "2h",
		"OAUTH2_PROXY_SET_XAUTHREQUEST": "true",
		"OAUTH2_PROXY_UPSTREAMS":        "http://env-a:1/a/, http://env-b:2/b/",
		"OAUTH2_PROXY_EMAIL_DOMAINS":    "env.example,env2.example",
	}
	flags := []string{
		"--cookie-name=from_flag",
		"--cookie-expire=1h",
		"--set-xauthrequest=false",
		"--upstream=http://flag-a:1/a/", "--upstream", "http://flag-b:2/b/",
		"--email-domain=flag.example",
	}
	type settings struct {
		CookieName      string
		CookieExpire    time.Duration
		SetXAuthRequest bool
		Upstreams       []string
		EmailDomains    []string
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		useFile bool
		want    settings
	}{
		{"flag beats env and file", flags, env, true, settings{
			"from_flag", time.Hour, false,
			[]string{"http://flag-a:1/a/", "http://flag-b:2/b/"}, []string{"flag.example"},
		}},
		{"env beats file", nil, env, true, settings{
			"from_env", 2 * time.Hour, true,
			[]string{"http://env-a:1/a/", "http://env-b:2/b/"}, []string{"env.example", "env2.example"},
		}},
		{"file beats default", nil, nil, true, settings{
			"from_file", 3 * time.Hour, false,
			[]string{"http://file-a:1/a/", "http://file-b:2/b/"}, []string{"file.example"},
		}},
		{"default", nil, nil, false, settings{"_oauth2_proxy", 168 * time.Hour, false, nil, nil}},
		{"flag beats default", flags, nil, false, settings{
			"from_flag", time.Hour, false,
			[]string{"http://flag-a:1/a/", "http://flag-b:2/b/"}, []string{"flag.example"},
		}},
		{"empty env is unset", nil, map[string]string{"OAUTH2_PROXY_COOKIE_NAME": "", "OAUTH2_PROXY_UPSTREAMS": ""}, true, settings{
			"from_file", 3 * time.Hour, false,
			[]string{"http://file-a:1/a/", "http://file-b:2/b/"}, []string{"file.example"},
		}},
		{"singular env name for a list", nil, map[string]string{"OAUTH2_PROXY_UPSTREAM": "http://one:1"}, true, settings{
			"from_file", 3 * time.Hour, false,
			[]string{"http://one:1"}, []string{"file.example"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.useFile {
				env["OAUTH2_PROXY_CONFIG"] = file
			}
			c, err := parseGatewaySettings(tt.args, env)
			if err != nil {
				t.Fatalf("parse(%q) = %v", tt.args, err)
			}
			got := settings{c.cookieName, c.cookieExpire, c.setXAuthRequest, c.upstreams, c.emailDomains}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parse(%q, %v) mismatch (-want +got):\n%s", tt.args, tt.env, diff)
			}
		})
	}
}

// TestGatewayConfigFile checks an oauth2-proxy style TOML file, with its
// plural list keys, read through --config.
func TestGatewayConfigFile(t *testing.T) {
	secret := "Z23PEwFnj-LNJymv21xtRBo6vaK-cmlp3mMmaaG0AtY="
	file := writeGatewayFile(t, "oauth2-proxy.cfg", `
## oauth2-proxy config file
http_address = "0.0.0.0:4180"
provider = "oidc"
oidc_issuer_url = "https://idp.example/realms/demo"
client_id = "gatehouse"
client_secret = "client-secret"
cookie_secret = "`+secret+`"
cookie_secure = false
cookie_expire = "12h"
cookie_domains = [".example.com"]
email_domains = ["example.com", ".corp.example"]
upstreams = [
    "http://todo-api:8000/",
    "static://202/health/",
]
whitelist_domains = [".localhost:3000", "app.example.com"]
set_xauthrequest = true
pass_access_token = true
reverse_proxy = true
trusted_proxy_ips = ["10.0.0.0/8", "192.168.1.1"]
cors_allowed_origins = ["http://localhost:3000"]
allowed_groups = ["admins"]
skip_provider_button = true
`)
	c, cfg := buildGatewaySettings(t, []string{"--config", file}, nil)
	want := gateway.Config{
		Provider:         "oidc",
		IssuerURL:        "https://idp.example/realms/demo",
		ClientID:         "gatehouse",
		ClientSecret:     "client-secret",
		Scopes:           []string{"openid", "email", "profile"},
		GroupsClaim:      "groups",
		EmailDomains:     []string{"example.com", ".corp.example"},
		AllowedGroups:    []string{"admins"},
		Cookie:           session.CookieConfig{Name: "_oauth2_proxy", Domain: ".example.com", Path: "/", Expire: 12 * time.Hour, Insecure: true, SameSite: http.SameSiteLaxMode},
		WhitelistDomains: []string{".localhost:3000", "app.example.com"},
		Upstreams:        []string{"http://todo-api:8000/", "static://202/health/"},
		UpstreamTimeout:  30 * time.Second,
		ReverseProxy:     true,
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.1/32")},

		SetXAuthRequest:    true,
		PassAccessToken:    true,
		SkipProviderButton: true,
		CORSAllowedOrigins: []string{"http://localhost:3000"},
	}
	if diff := cmp.Diff(want, cfg, gatewayConfigOpts); diff != "" {
		t.Errorf("build(--config %s) mismatch (-want +got):\n%s", file, diff)
	}
	if c.httpAddress != "0.0.0.0:4180" {
		t.Errorf("build(--config %s) http address = %q, want 0.0.0.0:4180", file, c.httpAddress)
	}
	if _, err := gateway.New(cfg); err != nil {
		t.Errorf("gateway.New(--config %s) = %v", file, err)
	}
}

// TestGatewayConfigFileKeys checks single keys: the plural and singular
// spellings of lists, a comma-separated string for a list, and TOML's
// types for scalars.
func TestGatewayConfigFileKeys(t *testing.T) {
	tests := []struct {
		name  string
		toml  string
		check func(c *gatewayConfig) any
		want  any
	}{
		{"plural list key", `upstreams = ["http://a:1/a/", "http://b:2/b/"]`, func(c *gatewayConfig) any { return c.upstreams }, []string{"http://a:1/a/", "http://b:2/b/"}},
		{"singular list key", `upstream = ["http://a:1"]`, func(c *gatewayConfig) any { return c.upstreams }, []string{"http://a:1"}},
		{"list as a comma-separated string", `email_domains = "a.example, b.example"`, func(c *gatewayConfig) any { return c.emailDomains }, []string{"a.example", "b.example"}},
		{"email domains star", `email_domains = ["*"]`, func(c *gatewayConfig) any { return c.emailDomains }, []string{"*"}},
		{"whitelist domains", `whitelist_domains = [".localhost:3000"]`, func(c *gatewayConfig) any { return c.whitelistDomains }, []string{".localhost:3000"}},
		{"cookie secret", `cookie_secret = "0123456789abcdef"`, func(c *gatewayConfig) any { return c.cookieSecret }, "0123456789abcdef"},
		{"bool", `set_xauthrequest = true`, func(c *gatewayConfig) any { return c.setXAuthRequest }, true},
		{"bool false over a true default", `pass_host_header = false`, func(c *gatewayConfig) any { return c.passHostHeader }, false},
		{"duration string", `upstream_timeout = "5s"`, func(c *gatewayConfig) any { return c.upstreamTimeout }, 5 * time.Second},
		{"duration zero as an integer", `cookie_expire = 0`, func(c *gatewayConfig) any { return c.cookieExpire }, time.Duration(0)},
		{"two-word key", `log_level = "debug"`, func(c *gatewayConfig) any { return c.log.level }, "debug"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeGatewayFile(t, "gateway.toml", tt.toml+"\n")
			c, err := parseGatewaySettings([]string{"--config=" + file}, nil)
			if err != nil {
				t.Fatalf("parse(file %q) = %v", tt.toml, err)
			}
			if diff := cmp.Diff(tt.want, tt.check(c)); diff != "" {
				t.Errorf("parse(file %q) mismatch (-want +got):\n%s", tt.toml, diff)
			}
		})
	}
}

// TestGatewayConfigFileUnknownKey checks that a key the gateway does not
// know is an error naming it, not silently ignored (a typo would
// otherwise drop a security setting).
func TestGatewayConfigFileUnknownKey(t *testing.T) {
	tests := []struct {
		name string
		toml string
		want []string
	}{
		{"typo", `cookie_secrett = "x"`, []string{`unknown setting "cookie_secrett"`}},
		{"oauth2-proxy setting the gateway lacks", `skip_auth_regex = ["^/health"]`, []string{`unknown setting "skip_auth_regex"`}},
		{"config inside the config", `config = "other.toml"`, []string{`unknown setting "config"`}},
		{"table", "[upstream_config]\nx = 1", []string{`unknown setting "upstream_config"`}},
		{"every unknown key", "aaa = 1\nzzz = 2\nclient_id = \"ok\"", []string{`unknown setting "aaa"`, `unknown setting "zzz"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := writeGatewayFile(t, "gateway.toml", tt.toml+"\n")
			_, err := parseGatewaySettings([]string{"--config", file}, nil)
			if err == nil {
				t.Fatalf("parse(file %q) = nil, want an error", tt.toml)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("parse(file %q) = %v, want it to contain %s", tt.toml, err, want)
				}
			}
			if !strings.Contains(err.Error(), file) {
				t.Errorf("parse(file %q) = %v, want it to name the file", tt.toml, err)
			}
		})
	}
}

// TestGatewayConfigFileDashedKey checks that a key spelled like the flag,
// with dashes, is either applied or refused — never accepted and then
// silently ignored, which for allowed-group would drop the group
// restriction and let every allowed email in.
func TestGatewayConfigFileDashedKey(t *testing.T) {
	file := writeGatewayFile(t, "gateway.toml", "allowed-group = [\"admins\"]\n")
	c, err := parseGatewaySettings([]string{"--config", file}, nil)
	if err == nil && !cmp.Equal(c.allowedGroups, []string{"admins"}) {
		t.Errorf("parse(file allowed-group = [\"admins\"]) = no error, allowed groups %q; want [admins] or an error naming allowed-group", c.allowedGroups)
	}
	if err != nil && !strings.Contains(err.Error(), "allowed-group") {
		t.Errorf("parse(file allowed-group = [\"admins\"]) = %v, want it to name allowed-group", err)
	}
}

// TestGatewayBadCookieSecretNotEchoed checks, through the whole command,
// that a cookie secret that does not decode is reported by its knob and
// never echoed, from whichever source it came.
func TestGatewayBadCookieSecretNotEchoed(t *testing.T) {
	const secret = "hunter2-not-a-valid-secret"
	base := []string{"gateway", "--client-id=id", "--client-secret=s", "--email-domain=*", "--log-format=json"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"flag", []string{"--cookie-secret=" + secret}, nil},
		{"environment", nil, map[string]string{"OAUTH2_PROXY_COOKIE_SECRET": secret}},
		{"config file", []string{"--config", writeGatewayFile(t, "gateway.toml", "cookie_secret = \""+secret+"\"\n")}, nil},
		{"secret file", []string{"--cookie-secret-file", writeGatewayFile(t, "cookie-secret", secret+"\n")}, nil},
		{"with other problems", []string{"--cookie-secret=" + secret, "--upstream=ftp://x", "--cookie-samesite=sometimes"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			args := append(append([]string(nil), base...), tt.args...)
			code := Main(t.Context(), args, func(k string) string { return tt.env[k] }, nil, &out, &out)
			if code != 2 {
				t.Errorf("Main(%q) = %d, want 2", args, code)
			}
			if !strings.Contains(out.String(), "--cookie-secret") {
				t.Errorf("Main(%q) output does not name --cookie-secret:\n%s", args, out.String())
			}
			for _, leak := range []string{secret, "hunter2"} {
				if strings.Contains(out.String(), leak) {
					t.Errorf("Main(%q) output contains %q:\n%s", args, leak, out.String())
				}
			}
		})
	}
}

// TestGatewayUnquotedSecretInFileNotEchoed checks that a TOML syntax error
// on a secret's line does not quote the secret.
func TestGatewayUnquotedSecretInFileNotEchoed(t *testing.T) {
	const secret = "abcdefghijklmnopqrstuvwxyzabcdef" // 32 raw bytes, a valid secret once quoted
	file := writeGatewayFile(t, "gateway.toml", "cookie_secret = "+secret+"\n")
	var out bytes.Buffer
	args := []string{"gateway", "--config", file}
	code := Main(t.Context(), args, func(string) string { return "" }, nil, &out, &out)
	if code != 2 {
		t.Errorf("Main(%q) = %d, want 2", args, code)
	}
	if strings.Contains(out.String(), "abcdefgh") {
		t.Errorf("Main(%q) output quotes the secret:\n%s", args, out.String())
	}
}

// TestGatewayBuildRefuses checks settings build refuses, each error naming
// its knob.
func TestGatewayBuildRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"httponly off by flag", []string{"--cookie-httponly=false"}, nil, "--cookie-httponly"},
		{"httponly off by env", nil, map[string]string{"OAUTH2_PROXY_COOKIE_HTTPONLY": "false"}, "--cookie-httponly"},
		{"two cookie domains", []string{"--cookie-domain=a.example", "--cookie-domain=b.example"}, nil, "--cookie-domain"},
		{"bad samesite", []string{"--cookie-samesite=sometimes"}, nil, "--cookie-samesite"},
		{"bad trusted proxy", []string{"--trusted-proxy-ip=nope"}, nil, "--trusted-proxy-ip"},
		{"bad http address", []string{"--http-address=localhost"}, nil, "--http-address"},
		{"bad http address in env", nil, map[string]string{"OAUTH2_PROXY_HTTP_ADDRESS": "http://0.0.0.0"}, "OAUTH2_PROXY_HTTP_ADDRESS"},
		{"missing secret file", []string{"--client-secret-file=/nonexistent/secret"}, nil, "--client-secret-file"},
		{"zero shutdown timeout", []string{"--shutdown-timeout=0s"}, nil, "--shutdown-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseGatewaySettings(tt.args, tt.env)
			if err != nil {
				t.Fatalf("parse(%q) = %v", tt.args, err)
			}
			_, err = c.build(slog.New(slog.DiscardHandler))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("build(%q, %v) = %v, want an error naming %s", tt.args, tt.env, err, tt.want)
			}
		})
	}
}

// TestGatewayCookieExpire checks that --cookie-expire=0, which in
// oauth2-proxy means a browser-session cookie, gives the negative
// CookieConfig.Expire that means the same to the session package (zero
// would mean the 168h default).
func TestGatewayCookieExpire(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		negative bool
		want     time.Duration // when not negative
	}{
		{"default", nil, nil, false, 168 * time.Hour},
		{"flag zero", []string{"--cookie-expire=0"}, nil, true, 0},
		{"flag 0s", []string{"--cookie-expire=0s"}, nil, true, 0},
		{"env zero", nil, map[string]string{"OAUTH2_PROXY_COOKIE_EXPIRE": "0"}, true, 0},
		{"flag hours", []string{"--cookie-expire=12h"}, nil, false, 12 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := buildGatewaySettings(t, tt.args, tt.env)
			got := cfg.Cookie.Expire
			if tt.negative && got >= 0 || !tt.negative && got != tt.want {
				want := "negative"
				if !tt.negative {
					want = tt.want.String()
				}
				t.Errorf("build(%q, %v) Cookie.Expire = %v, want %s", tt.args, tt.env, got, want)
			}
		})
	}
}

// TestGatewayMainReportsEveryProblem checks that the command lists problems
// found while binding, building and in gateway.New together, then exits 2
// without listening.
func TestGatewayMainReportsEveryProblem(t *testing.T) {
	var out bytes.Buffer
	args := []string{"gateway", "--cookie-httponly=false", "--upstream=ftp://x", "--cors-allowed-origin=*", "--http-address=127.0.0.1:0"}
	code := Main(t.Context(), args, func(string) string { return "" }, nil, io.Discard, &out)
	if code != 2 {
		t.Fatalf("Main(%q) = %d, want 2; output:\n%s", args, code, out.String())
	}
	for _, want := range []string{"--cookie-httponly", "--upstream", "--cors-allowed-origin", "--client-id", "--client-secret", "--cookie-secret", "--email-domain"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("Main(%q) output does not name %s:\n%s", args, want, out.String())
		}
	}
}

// TestCookieSecretRotation: a session sealed under the old secret still
// opens after --cookie-secret changes, when the old one is given as
// --cookie-secret-previous; a bad previous secret is reported, not echoed.
func TestCookieSecretRotation(t *testing.T) {
	oldKey, newKey := strings.Repeat("o", 32), strings.Repeat("n", 32)
	build := func(args ...string) (*session.Codec, error) {
		var c gatewayConfig
		o := c.options()
		if err := o.parse(append([]string{"--client-id=a", "--client-secret=b", "--email-domain=*", "--oidc-issuer-url=http://127.0.0.1:1"}, args...), func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		cfg, err := c.build(slog.New(slog.DiscardHandler))
		return cfg.Codec, err
	}
	before, err := build("--cookie-secret=" + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := before.Seal("_oauth2_proxy", &session.Session{ID: "x", User: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	after, err := build("--cookie-secret="+newKey, "--cookie-secret-previous="+oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := after.Open("_oauth2_proxy", sealed, 0); err != nil || s.User != "alice" {
		t.Errorf("old session after rotation = %v, %v; want it to open", s, err)
	}
	without, _ := build("--cookie-secret=" + newKey)
	if _, err := without.Open("_oauth2_proxy", sealed, 0); err == nil {
		t.Errorf("old session opened without --cookie-secret-previous")
	}
	_, err = build("--cookie-secret="+newKey, "--cookie-secret-previous=tooshort-secretvalue")
	if err == nil || !strings.Contains(err.Error(), "--cookie-secret-previous") || strings.Contains(err.Error(), "tooshort-secretvalue") {
		t.Errorf("bad previous secret: %v; want an error naming the flag without the value", err)
	}
}
