package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"gatehouse/internal/cli"
)

var idpNoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func idpGet(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	res, err := idpNoRedirect.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// idpSignIn starts a sign-in of clientID and posts the login form; it
// returns the login POST's answer.
func idpSignIn(t *testing.T, base, clientID, redirect, email, password string) *http.Response {
	t.Helper()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {"openid email"},
		"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
	res, body := idpGet(t, base+"/authorize?"+q.Encode())
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize = %d:\n%s", res.StatusCode, body)
	}
	_, body = idpGet(t, base+res.Header.Get("Location"))
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no login form:\n%s", body)
	}
	form := url.Values{"authRequestID": {m[1]}, "email": {email}, "password": {password}}
	req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := idpNoRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func TestIDPDemoRestartKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	args := []string{"idp", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}
	env := map[string]string{"GATEHOUSE_IDP_CLIENT_SECRET": "demo-secret"}
	a := start(t, env, "idp listening", args...)
	base := "http://" + a.addr
	res, body := idpGet(t, base+"/.well-known/openid-configuration")
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	json.Unmarshal([]byte(body), &disc)
	if res.StatusCode != 200 || disc.Issuer != base {
		t.Fatalf("discovery = %d, issuer %q, want %q", res.StatusCode, disc.Issuer, base)
	}
	_, keys := idpGet(t, disc.JWKSURI)
	if res := idpSignIn(t, base, "gatehouse", "http://localhost:8080/oauth2/callback", "alice@example.com", "password"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("demo sign-in = %d, want 303", res.StatusCode)
	}
	log := a.stderr.String()
	for _, want := range []string{`"issuer":"` + base + `"`, "allowed because its host is loopback", "demo users"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range []string{"demo-secret", `"password"`} {
		if strings.Contains(log, secret) {
			t.Errorf("log contains %s:\n%s", secret, log)
		}
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit code %d after stop; log:\n%s", code, a.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "idp-signing-keys.json")); err != nil {
		t.Fatal(err)
	}

	b := start(t, env, "idp listening", args...)
	defer b.stop()
	_, keys2 := idpGet(t, "http://"+b.addr+"/keys")
	if keys2 != keys {
		t.Errorf("JWKS changed across a restart:\n%s\n%s", keys, keys2)
	}
}

func TestIDPRefusesBadSettings(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"demo users on the network", []string{"--addr", "0.0.0.0:0", "--client-secret", "x"},
			[]string{"--insecure-demo-users-on-network", "0.0.0.0:0"}},
		{"demo users on all interfaces", []string{"--addr", ":9000", "--client-secret", "x"}, []string{"--insecure-demo-users-on-network"}},
		{"no client secret", []string{"--addr", "127.0.0.1:0"}, []string{"--client-secret (GATEHOUSE_IDP_CLIENT_SECRET) is required"}},
		{"http issuer on the network", []string{"--client-secret", "x", "--issuer", "http://idp.example:9000"},
			[]string{"--issuer", "--insecure-http-issuer"}},
		{"bad redirect URI", []string{"--client-secret", "x", "--redirect-uri", "/relative"}, []string{"demo client", `"/relative"`}},
		{"everything at once", []string{"--addr", "nope", "--shutdown-timeout", "0s", "--data-dir", ""},
			[]string{"--addr", "--shutdown-timeout", "--data-dir", "--client-secret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			args := append([]string{"idp", "--data-dir", dir}, tt.args...)
			code := cli.Main(t.Context(), args, func(string) string { return "" }, nil, io.Discard, &stderr)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr:\n%s", code, &stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
		})
	}
	// The demo users on the network, when asked for explicitly.
	p := start(t, map[string]string{"GATEHOUSE_IDP_CLIENT_SECRET": "x"}, "idp listening",
		"idp", "--addr", "0.0.0.0:0", "--insecure-demo-users-on-network", "--data-dir", dir, "--log-format", "json")
	p.stop()
}

func TestIDPYAMLConfig(t *testing.T) {
	dir := t.TempDir()
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "idp.yaml")
	os.WriteFile(file, []byte(`# users and clients
users:
  - email: carol@example.com
    name: Carol
    password_hash: "`+string(hash)+`"
    groups: [ops, admins]
  - email: dave@example.com
    password: plain-for-local-use
clients:
  - id: app
    secret: app-secret
    redirect_uris: [http://localhost:9999/cb]
    post_logout_redirect_uris: [http://localhost:9999/]
  - id: spa
    redirect_uris: [http://localhost:3000/cb]
`), 0o600)
	// The file from the environment.
	p := start(t, map[string]string{"GATEHOUSE_IDP_CONFIG": file}, "idp listening",
		"idp", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json")
	defer p.stop()
	base := "http://" + p.addr
	if res := idpSignIn(t, base, "app", "http://localhost:9999/cb", "carol@example.com", "correct horse"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with the bcrypt password = %d, want 303", res.StatusCode)
	}
	if res := idpSignIn(t, base, "app", "http://localhost:9999/cb", "carol@example.com", "wrong"); res.StatusCode != http.StatusOK {
		t.Errorf("wrong password = %d, want 200 (the form again)", res.StatusCode)
	}
	if res := idpSignIn(t, base, "spa", "http://localhost:3000/cb", "dave@example.com", "plain-for-local-use"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in with the plain password = %d, want 303", res.StatusCode)
	}
	if res := idpSignIn(t, base, "spa", "http://localhost:3000/cb", "alice@example.com", "password"); res.StatusCode != http.StatusOK {
		t.Errorf("a demo user signed in although --config lists the users: %d", res.StatusCode)
	}
	if strings.Contains(p.stderr.String(), "correct horse") || strings.Contains(p.stderr.String(), string(hash)) {
		t.Errorf("the log contains a password or its hash")
	}
}

func TestIDPYAMLConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
		args       []string
		want       []string
	}{
		{"unknown user key", "users:\n  - email: a@example.com\n    passwd: x\nclients:\n  - id: c\n    redirect_uris: [http://x/cb]\n", nil,
			[]string{`line 3: unknown key "passwd" in users[0]`, "password_hash"}},
		{"unknown top-level and client keys", "user:\n  - email: a@example.com\nclients:\n  - id: c\n    redirect_uri: http://x/cb\n", nil,
			[]string{`line 1: unknown key "user"`, `line 5: unknown key "redirect_uri" in clients[0]`, "redirect_uris"}},
		{"wrong type", "users:\n  - email: a@example.com\n    password: x\n    groups: {a: b}\nclients:\n  - id: c\n    redirect_uris: [http://x/cb]\n", nil,
			[]string{"line 4"}},
		{"semantic problems", "users:\n  - email: a@example.com\nclients:\n  - id: c\n", nil,
			[]string{"users[0] (a@example.com): set password", "clients[0] (c): redirect_uris: none listed"}},
		{"demo-client flags with a file", "users:\n  - email: a@example.com\n    password: x\nclients:\n  - id: c\n    redirect_uris: [http://x/cb]\n",
			[]string{"--client-secret", "s"}, []string{"apply only without --config"}},
		{"not YAML", "users: [\n", nil, []string{"is not valid YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			os.WriteFile(file, []byte(tt.yaml), 0o600)
			var stderr bytes.Buffer
			args := append([]string{"idp", "--addr", "127.0.0.1:0", "--data-dir", dir, "--config", file}, tt.args...)
			code := cli.Main(t.Context(), args, func(string) string { return "" }, nil, io.Discard, &stderr)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			for _, w := range append(tt.want, file) {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
		})
	}
}

func TestIDPHelp(t *testing.T) {
	var out bytes.Buffer
	code := cli.Main(t.Context(), []string{"idp", "--help"}, func(string) string { return "" }, nil, &out, &out)
	for _, want := range []string{"GATEHOUSE_IDP_CLIENT_SECRET", "GATEHOUSE_IDP_CONFIG", "--insecure-demo-users-on-network", "password_hash", "GATEHOUSE_IDP_REDIRECT_URIS"} {
		if code != 0 || !strings.Contains(out.String(), want) {
			t.Errorf("idp --help = %d, lacks %q", code, want)
		}
	}
}
