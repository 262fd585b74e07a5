package todoapi

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// headers answers GET /headers with the request's headers as a JSON object
// of lower-case names, as the tutorial shows them. Go's server moves Host
// out of the header map; it is put back, since the Host a service sees is
// the point of the tutorial's step 04. Repeated headers are joined with
// ", " (cookies with "; ", as RFC 9113 rejoins them).
func (a *API) headers(w http.ResponseWriter, r *http.Request) {
	out := make(map[string]string, len(r.Header)+1)
	for name, values := range r.Header {
		sep := ", "
		if name == "Cookie" {
			sep = "; "
		}
		out[strings.ToLower(name)] = strings.Join(values, sep)
	}
	out["host"] = r.Host
	a.writeJSON(w, http.StatusOK, out)
}

// healthz reports that the process is up; it does not look at the store.
func (a *API) healthz(w http.ResponseWriter, r *http.Request) {
	a.writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz reports whether the store answers within two seconds; a load
// balancer takes the instance out of rotation while it does not.
func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		w.Header().Set("Retry-After", "1")
		a.fail(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
