package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// provider is the OpenID provider as discovered: its endpoints, its keys
// (go-oidc caches the JWKS and refetches it on an unknown key id) and the
// ID-token verifier. Discovery happens in the background (run) and is
// retried until it succeeds; until then the gateway is not ready.
type provider struct {
	issuer   string
	clientID string
	secret   string
	scopes   []string
	client   *http.Client

	mu        sync.RWMutex
	oidc      *oidc.Provider
	verifier  *oidc.IDTokenVerifier
	authStyle oauth2.AuthStyle
	lastErr   error
}

func newProvider(c *Config) *provider {
	client := c.HTTPClient
	if client == nil {
		client = &http.Client{
			Timeout: 15 * time.Second,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 10 * time.Second,
				MaxIdleConnsPerHost:   8,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
			// Never follow a redirect from a token or JWKS endpoint.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &provider{issuer: c.IssuerURL, clientID: c.ClientID, secret: c.ClientSecret, scopes: c.Scopes, client: client}
}

// errNotReady means discovery has not succeeded yet.
var errNotReady = errors.New("identity provider not reachable yet")

func (p *provider) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, p.client)
}

// discover fetches the provider's configuration once.
func (p *provider) discover(ctx context.Context) error {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(p.ctx(dctx), p.issuer)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.lastErr = err
		return fmt.Errorf("discover %s: %w", p.issuer, err)
	}
	p.oidc = op
	p.verifier = op.Verifier(&oidc.Config{ClientID: p.clientID})
	p.authStyle = tokenAuthStyle(op)
	p.lastErr = nil
	return nil
}

// run retries discovery with capped exponential backoff until it succeeds
// or ctx ends.
func (p *provider) run(ctx context.Context, g *Gateway) {
	delay := 500 * time.Millisecond
	for {
		err := p.discover(ctx)
		if err == nil {
			g.log.Info("identity provider discovered", "issuer", p.issuer)
			return
		}
		g.log.Warn("identity provider not reachable; retrying", "issuer", p.issuer, "retry_in", delay, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// ready returns the discovered provider, or errNotReady.
func (p *provider) ready() (*oidc.Provider, *oidc.IDTokenVerifier, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.oidc == nil {
		return nil, nil, errNotReady
	}
	return p.oidc, p.verifier, nil
}

// oauth2Config is the authorization-code client for one callback URL.
func (p *provider) oauth2Config(redirectURL string) (*oauth2.Config, error) {
	op, _, err := p.ready()
	if err != nil {
		return nil, err
	}
	endpoint := op.Endpoint()
	p.mu.RLock()
	endpoint.AuthStyle = p.authStyle
	p.mu.RUnlock()
	return &oauth2.Config{
		ClientID:     p.clientID,
		ClientSecret: p.secret,
		Endpoint:     endpoint,
		RedirectURL:  redirectURL,
		Scopes:       p.scopes,
	}, nil
}

// tokenAuthStyle picks how to send the client secret from what discovery
// says the token endpoint supports, so every exchange is one request
// (x/oauth2's auto-detection tries one style, then the other, spending a
// refresh token twice on providers that refuse the first).
func tokenAuthStyle(op *oidc.Provider) oauth2.AuthStyle {
	var d struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	op.Claims(&d)
	if slices.Contains(d.Methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader // the default when discovery names none (OpenID Connect Discovery 1.0)
}
