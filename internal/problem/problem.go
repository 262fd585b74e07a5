// Package problem writes RFC 9457 problem details
// (application/problem+json), the one error format of every Gatehouse HTTP
// service.
package problem

import (
	"encoding/json"
	"net/http"
)

// ContentType is the media type of a problem document.
const ContentType = "application/problem+json"

// Details is one problem document. Title and Detail are fixed public texts
// chosen by the caller: never an internal error's text.
type Details struct {
	Type      string `json:"type,omitempty"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Errors lists per-field problems of a rejected input.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names one input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Write sends d with its status. Type defaults to "about:blank" and Title
// to the status text, as RFC 9457 recommends.
func Write(w http.ResponseWriter, d Details) {
	WriteDocument(w, d.withDefaults(), d.Status)
}

func (d Details) withDefaults() Details {
	if d.Type == "" {
		d.Type = "about:blank"
	}
	if d.Title == "" {
		d.Title = http.StatusText(d.Status)
	}
	return d
}

// WriteDocument sends doc with status: a problem document with extension
// members (RFC 9457 §3.2), a struct embedding Details, such as
// struct{ problem.Details; SignInURL string `json:"sign_in_url"` }.
// Set Details' Type and Title yourself, or use Write.
func WriteDocument(w http.ResponseWriter, doc any, status int) {
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("ETag")
	h.Del("Last-Modified")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(doc) // the client may be gone; nothing to do about it
}
