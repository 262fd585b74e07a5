package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"gatehouse/internal/redirect"
	"gatehouse/internal/session"
)

// Gateway is the identity-aware gateway: an http.Handler serving
// oauth2-proxy's /oauth2/* endpoints and proxying everything else to the
// upstreams once the session checks out.
type Gateway struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	provider  *provider
	policy    *policy
	sessions  session.Store
	codec     *session.Codec
	redirects *redirect.Validator
	upstreams *upstreams
	trusted   *trust
	cors      *cors
	metrics   *Metrics
	refresh   *refresher
	buffers   *bufferPool
	mux       *http.ServeMux
}

// New checks cfg and builds the gateway. It does no I/O: call Run to
// discover the provider.
func New(cfg Config) (*Gateway, error) {
	cfg.defaults()
	err := cfg.validate()
	redirects, rerr := redirect.New(cfg.WhitelistDomains)
	if rerr != nil {
		err = errors.Join(err, fmt.Errorf("--whitelist-domain: %w", rerr))
	}
	ups, uerr := parseUpstreams(cfg.Upstreams)
	if uerr != nil {
		err = errors.Join(err, uerr)
	}
	if err != nil {
		return nil, err
	}
	sessions := cfg.Sessions
	if sessions == nil {
		cs, err := session.NewCookieStore(cfg.Codec, cfg.Cookie)
		if err != nil {
			return nil, err
		}
		sessions = cs
	}
	g := &Gateway{
		cfg:       cfg,
		log:       cfg.Logger,
		now:       cfg.Now,
		provider:  newProvider(&cfg),
		policy:    newPolicy(&cfg),
		sessions:  sessions,
		codec:     cfg.Codec,
		redirects: redirects,
		upstreams: ups,
		trusted:   &trust{prefixes: cfg.TrustedProxies},
		cors:      newCORS(cfg.CORSAllowedOrigins),
		metrics:   cfg.Metrics,
		refresh:   &refresher{recent: map[string]refreshResult{}},
		buffers:   newBufferPool(),
		mux:       http.NewServeMux(),
	}
	if g.metrics == nil {
		g.metrics = NewMetrics(nil)
	}
	transport := newTransport(cfg)
	for _, up := range ups.list {
		if up.target != nil {
			up.handler = g.reverseProxy(up, transport)
		}
	}
	g.routes()
	return g, nil
}

// Run discovers the provider in the background, retrying until it
// answers, and returns when ctx ends. The gateway serves meanwhile: /ready
// answers 503 and sign-in pages explain the outage.
func (g *Gateway) Run(ctx context.Context) {
	g.provider.run(ctx, g)
	<-ctx.Done()
}

// Ready reports whether the provider has been discovered.
func (g *Gateway) Ready() bool {
	_, _, err := g.provider.ready()
	return err == nil
}

// ServeHTTP applies CORS to every answer, answers preflights itself, then
// routes.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.cors.handle(w, r) {
		return
	}
	g.mux.ServeHTTP(w, r)
}
