package todoapi

import (
	_ "embed"
	"net/http"

	"github.com/swaggest/swgui/v5emb"
)

// openapiJSON is the hand-checked OpenAPI 3.1 description of routes.go;
// TestOpenAPIMatchesRoutes keeps the two in step.
//
//go:embed openapi.json
var openapiJSON []byte

func (a *API) openapi(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openapiJSON)
}

// docsHandler serves Swagger UI from assets embedded in the binary, so the
// docs work with no network at all.
func docsHandler() http.Handler {
	return v5emb.New("Gatehouse Todo API", "/openapi.json", "/docs/")
}
