package httpserver

import "net/http"

// WriteHTML sends a rendered page with the headers every Gatehouse page
// carries: the given Content-Security-Policy, no framing, no sniffing, no
// Referer to other sites (URLs here may hold codes), and no caching.
func WriteHTML(w http.ResponseWriter, status int, csp string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body) // the client may be gone; nothing to do about it
}

// Asset serves an embedded static file (a stylesheet, say) from memory,
// cacheable for an hour and never sniffed.
func Asset(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Content-Type-Options", "nosniff")
		w.Write(body)
	}
}
