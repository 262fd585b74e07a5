package todoapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestOpenAPIMatchesRoutes keeps openapi.json and routes.go in step: every
// route is documented and nothing undocumented is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &spec); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented []string
	for path, ops := range spec.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	var served []string
	for _, rt := range (&API{}).routes() {
		p := strings.Replace(rt.pattern, "{$}", "", 1)
		if strings.HasSuffix(p, "/docs/") {
			continue // the Swagger UI's own assets
		}
		served = append(served, p)
	}
	slices.Sort(documented)
	slices.Sort(served)
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("routes.go (-) and openapi.json (+) differ:\n%s", diff)
	}
}
