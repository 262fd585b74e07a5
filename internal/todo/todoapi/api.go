// Package todoapi is the HTTP API of the Todo service: the tutorial's
// endpoints at the root of the address (so a gateway can proxy "/" to it
// unchanged), JSON in and out, RFC 9457 problems for every error, OpenAPI
// 3.1 at /openapi.json and interactive docs at /docs.
package todoapi

import (
	"log/slog"
	"net/http"

	"gatehouse/internal/todo"
)

// Anonymous is the owner of every todo while the API runs without an
// identity source in front of it.
const Anonymous = "anonymous"

// Config configures the API. The zero value of each optional field is a
// documented default.
type Config struct {
	Service *todo.Service
	Store   todo.Store // answers /readyz
	Logger  *slog.Logger
	// Owner decides whose todos a request works on. Nil serves everyone
	// as Anonymous. Returning an error answers 401.
	Owner func(*http.Request) (string, error)
}

// API serves the Todo endpoints.
type API struct {
	svc   *todo.Service
	store todo.Store
	log   *slog.Logger
	owner func(*http.Request) (string, error)
	mux   *http.ServeMux
}

// New returns the API handler.
func New(cfg Config) *API {
	a := &API{svc: cfg.Service, store: cfg.Store, log: cfg.Logger, owner: cfg.Owner, mux: http.NewServeMux()}
	if a.owner == nil {
		a.owner = func(*http.Request) (string, error) { return Anonymous, nil }
	}
	for _, rt := range a.routes() {
		a.mux.Handle(rt.pattern, rt.handler)
	}
	return a
}

// ServeHTTP routes the request. Unknown paths and methods get problem
// documents too, never the mux's plain-text answers.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern == "" {
		a.notRouted(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// notRouted asks the mux what it would answer (404, 405 with Allow, or a
// redirect for a cleaned path) and sends the same status as a problem.
func (a *API) notRouted(w http.ResponseWriter, r *http.Request) {
	probe := &statusProbe{header: http.Header{}}
	a.mux.ServeHTTP(probe, r)
	if loc := probe.header.Get("Location"); loc != "" && probe.status >= 300 && probe.status < 400 {
		w.Header().Set("Location", loc)
		w.WriteHeader(probe.status)
		return
	}
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	a.fail(w, r, statusError(probe.status))
}

type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
