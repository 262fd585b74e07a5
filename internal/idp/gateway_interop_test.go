package idp_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/internal/gateway"
	"gatehouse/internal/httpserver"
	"gatehouse/internal/idp"
	"gatehouse/internal/session"
	"gatehouse/internal/testenv"
)

// TestGatewaySignsInThroughProvider signs alice in through the Gatehouse
// gateway against this provider, with a browser-like client (cookie jar,
// following redirects) that fills in the login form.
func TestGatewaySignsInThroughProvider(t *testing.T) {
	gwSrv := httptest.NewUnstartedServer(nil)
	gwURL := "http://" + gwSrv.Listener.Addr().String()
	const secret = "gateway-client-secret"
	e := newEnv(t, func(c *idp.Config) {
		c.Clients = []idp.Client{{ID: "gatehouse", Secret: secret, RedirectURIs: []string{gwURL + "/oauth2/callback"}}}
	})

	codec, err := session.NewCodec([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	logs := &testenv.LogBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	g, err := gateway.New(gateway.Config{
		IssuerURL:    e.url,
		ClientID:     "gatehouse",
		ClientSecret: secret,
		Scopes:       []string{"openid", "email", "profile", "groups"},
		RedirectURL:  gwURL + "/oauth2/callback",
		EmailDomains: []string{"*"},
		Codec:        codec,
		Cookie:       session.CookieConfig{Insecure: true},
		Logger:       logger,
	})
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; !g.Ready(); i++ {
		if i > 500 {
			t.Fatalf("the gateway never discovered the provider; log:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	gwSrv.Config.Handler = httpserver.Wrap(g, logger)
	gwSrv.Start()
	t.Cleanup(gwSrv.Close)

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	navigate := func(req *http.Request) (*http.Response, string) {
		t.Helper()
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		res, err := browser.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	// The gateway sends the browser to the provider's login page.
	req, _ := http.NewRequest("GET", gwURL+"/oauth2/start", nil)
	res, body := navigate(req)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Request.URL.String(), e.url+"/login") {
		t.Fatalf("sign-in start ended at %s with %d:\n%s", res.Request.URL, res.StatusCode, body)
	}
	m := regexp.MustCompile(`name="authRequestID" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no login form:\n%s", body)
	}

	// The browser posts the form (same-origin), and follows the redirects
	// back through the gateway's callback, which sets the session cookie.
	form := url.Values{"authRequestID": {m[1]}, "email": {"alice@example.com"}, "password": {"password"}}
	req, _ = http.NewRequest("POST", e.url+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, body = navigate(req)
	if res.Request.URL.String() != gwURL+"/" || !strings.Contains(logs.String(), `"msg":"signed in"`) {
		t.Fatalf("login ended at %s with %d:\n%s\ngateway log:\n%s", res.Request.URL, res.StatusCode, body, logs)
	}
	req, _ = http.NewRequest("GET", gwURL+"/oauth2/userinfo", nil)
	res, body = navigate(req)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /oauth2/userinfo = %d:\n%s", res.StatusCode, body)
	}
	var ui struct {
		User   string   `json:"user"`
		Email  string   `json:"email"`
		Groups []string `json:"groups"`
	}
	if err := json.Unmarshal([]byte(body), &ui); err != nil {
		t.Fatalf("userinfo %q: %v", body, err)
	}
	if ui.Email != "alice@example.com" || !cmp.Equal(ui.Groups, []string{"admins"}) || ui.User == "" {
		t.Errorf("gateway userinfo = %+v, want alice@example.com in [admins]", ui)
	}
}
