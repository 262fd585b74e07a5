package todoapi

import "net/http"

type route struct {
	pattern string
	handler http.Handler
}

// routes is the whole surface of the API. openapi.json documents exactly
// these (a test keeps the two in step).
func (a *API) routes() []route {
	docs := docsHandler()
	return []route{
		{"GET /{$}", http.HandlerFunc(a.list)},
		{"POST /{$}", http.HandlerFunc(a.create)},
		{"GET /{id}", http.HandlerFunc(a.get)},
		{"PUT /{id}", http.HandlerFunc(a.edit)},
		{"DELETE /{id}", http.HandlerFunc(a.delete)},
		{"POST /{id}/complete", a.setCompleted(true)},
		{"POST /{id}/incomplete", a.setCompleted(false)},
		{"GET /headers", http.HandlerFunc(a.headers)},
		{"GET /healthz", http.HandlerFunc(a.healthz)},
		{"GET /readyz", http.HandlerFunc(a.readyz)},
		{"GET /openapi.json", http.HandlerFunc(a.openapi)},
		{"GET /docs", docs},
		{"GET /docs/", docs},
	}
}
