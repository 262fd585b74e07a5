package web

// routes is the whole surface of the web client. The pages that show
// data need the gateway's session cookie (requireSession); the data
// itself comes from the gateway, fetched by the page's script.
func (s *server) routes() {
	s.mux.Handle("GET /{$}", s.requireSession(s.page("todos", "Todos")))
	s.mux.Handle("GET /headers", s.requireSession(s.page("headers", "Headers")))
	s.mux.HandleFunc("GET /login", s.login)
	s.mux.HandleFunc("GET /static/{name}", s.static)
	s.mux.HandleFunc("GET /healthz", healthz)
	s.mux.HandleFunc("GET /", s.notFound)
}
