package idp

import "net/http"

// routes is the provider's surface, at paths relative to the issuer.
// The token library (op) serves everything not listed:
//
//	GET  /.well-known/openid-configuration   discovery
//	GET  /keys                                JWKS
//	POST /oauth/token                         code and refresh-token grants
//	GET  /userinfo (or POST)                  claims for an access token
//	POST /revoke                              token revocation (RFC 7009)
//	POST /oauth/introspect                    token introspection (RFC 7662)
//	GET  /healthz, /ready                     health
func (p *Provider) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", p.home)
	m.HandleFunc("GET /assets/idp.css", serveCSS)
	m.HandleFunc("/authorize", p.authorize) // GET or POST (OpenID Connect Core 1.0 section 3.1.2.1)
	m.HandleFunc("GET /authorize/callback", p.authorizeCallback)
	m.HandleFunc("GET /login", p.loginPage)
	m.HandleFunc("POST /login", p.login)
	m.HandleFunc("/end_session", p.endSession) // GET or POST
	m.Handle("/", p.op)
	p.mux = m
}
