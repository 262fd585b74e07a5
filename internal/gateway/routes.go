package gateway

import (
	"gatehouse/internal/httpserver"
	"net/http"
)

// routes is the gateway's surface. Everything not listed goes to the
// proxy, behind the session check.
func (g *Gateway) routes() {
	handle := func(pattern, route string, h http.HandlerFunc) {
		g.mux.Handle(pattern, g.metrics.instrument(route, h))
	}
	handle("GET /oauth2/start", "start", g.start)
	handle("GET /oauth2/callback", "callback", g.callback)
	handle("GET /oauth2/sign_in", "sign_in", g.signIn)
	handle("GET /oauth2/sign_out", "sign_out", g.signOut)
	handle("POST /oauth2/sign_out", "sign_out", g.signOut)
	handle("/oauth2/auth", "auth", g.auth) // nginx's auth_request keeps the client's method
	handle("GET /oauth2/userinfo", "userinfo", g.userinfo)
	handle("GET /oauth2/static/style.css", "static", httpserver.Asset("text/css; charset=utf-8", styleCSS))
	handle("/oauth2/", "oauth2_unknown", g.notFound)
	handle("GET /ping", "ping", ping)
	handle("GET /ready", "ready", g.ready)
	handle("/", "proxy", g.proxy)
}

func ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("OK"))
}

func (g *Gateway) ready(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !g.Ready() {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("identity provider not reachable yet"))
		return
	}
	w.Write([]byte("OK"))
}
