package idp_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"gatehouse/internal/idp"
)

func TestConfigProblemsReportedAtOnce(t *testing.T) {
	good := idp.Config{Issuer: "http://127.0.0.1:9000", Users: idp.DemoUsers(), Clients: testClients()}
	tests := []struct {
		name   string
		mutate func(*idp.Config)
		want   []string
	}{
		{"no issuer", func(c *idp.Config) { c.Issuer = "" }, []string{"issuer is required"}},
		{"http issuer on the network", func(c *idp.Config) { c.Issuer = "http://idp.example:9000" }, []string{"plain http", "https"}},
		{"issuer with a query", func(c *idp.Config) { c.Issuer = "https://idp.example/?x=1" }, []string{"no query"}},
		{"everything wrong", func(c *idp.Config) {
			c.Users = []idp.User{
				{Email: "not-an-address", Password: "x"},
				{Email: "a@example.com"},
				{Email: "b@example.com", Password: "x", PasswordHash: "y"},
				{Email: "c@example.com", PasswordHash: "plain-text"},
				{Email: "A@example.com", Password: "x"},
				{Email: "d@example.com", Password: "x", Groups: []string{"a,b"}},
			}
			c.Clients = []idp.Client{
				{ID: "", RedirectURIs: []string{"http://x/cb"}},
				{ID: "app"},
				{ID: "app2", RedirectURIs: []string{"/relative", "http://x/cb#frag"}, PostLogoutRedirectURIs: []string{"nope"}},
			}
		}, []string{
			`users[0] (not-an-address): email`,
			`users[1] (a@example.com): set password`,
			`users[2] (b@example.com): set password or password_hash, not both`,
			`users[3] (c@example.com): password_hash is not a bcrypt hash`,
			`users[4] (A@example.com): email is listed twice`,
			`users[5] (d@example.com): group "a,b"`,
			`clients[0] (): id`,
			`clients[1] (app): redirect_uris: none listed`,
			`clients[2] (app2): redirect_uris: "/relative"`,
			`clients[2] (app2): redirect_uris: "http://x/cb#frag" must not have a #fragment`,
			`clients[2] (app2): post_logout_redirect_uris: "nope"`,
		}},
		{"nothing at all", func(c *idp.Config) { c.Users, c.Clients = nil, nil }, []string{"users: none listed", "clients: none listed"}},
		{"DataDir with New", func(c *idp.Config) { c.DataDir = t.TempDir() }, []string{"use idp.Open"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			_, err := idp.New(cfg)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestConfigAccepted(t *testing.T) {
	hash, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	tests := []struct {
		name string
		cfg  idp.Config
	}{
		{"https issuer with a path", idp.Config{Issuer: "https://example.com/idp/"}},
		{"http loopback", idp.Config{Issuer: "http://localhost:9000"}},
		{"http IPv6 loopback", idp.Config{Issuer: "http://[::1]:9000"}},
		{"http on the network, allowed", idp.Config{Issuer: "http://idp:9000", InsecureAllowHTTPIssuer: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Users = []idp.User{{Email: "carol@example.com", PasswordHash: string(hash)}}
			cfg.Clients = []idp.Client{{ID: "native", RedirectURIs: []string{"com.example.app:/callback", "http://127.0.0.1/cb"}}}
			p, err := idp.New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if strings.HasSuffix(p.Issuer(), "/") {
				t.Errorf("Issuer() = %q keeps the trailing slash", p.Issuer())
			}
		})
	}
}
