package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"

	"gatehouse/internal/httpserver"
)

// pageNames are the templates under templates/, each rendered inside
// base.html.
var pageNames = []string{"todos", "headers", "login", "notfound"}

func parsePages(a assets) (map[string]*template.Template, error) {
	funcs := template.FuncMap{"asset": a.url}
	out := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("base.html").Funcs(funcs).ParseFS(files, "templates/base.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// pageData is what every page template sees. All of it is rendered by
// html/template, which escapes for the context (text, attribute, URL).
type pageData struct {
	Page  string // the template's name; the script reads it from <body data-page>
	Title string
	// SignedIn shows the navigation and the sign-out control. It means only
	// that the session cookie is present, as in requireSession.
	SignedIn bool
	// APIURL is the gateway's URL, without a trailing slash; the script
	// reads it from <body data-api-url>.
	APIURL  string
	APIHost string
	// SignInURL starts the gateway's login and comes back to this client.
	SignInURL string
	// SignOutURL ends the session at the gateway and comes back to /login.
	SignOutURL string
	// Expired says the script sent the user here after a 401: the cookie
	// was there but the gateway no longer accepts it.
	Expired bool
}

func (s *server) data(r *http.Request, name, title string) pageData {
	return pageData{
		Page:       name,
		Title:      title,
		SignedIn:   s.hasSession(r),
		APIURL:     s.apiURL,
		APIHost:    s.apiHost,
		SignInURL:  s.signInURL,
		SignOutURL: s.signOutURL,
	}
}

// page serves a page that needs nothing from the request.
func (s *server) page(name, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, s.data(r, name, title))
	}
}

// login answers GET /login: the "Sign in" button. It is shown even with a
// session cookie present, never redirected to /: the cookie may be one the
// gateway no longer accepts (the script came here after a 401), and
// sending that visitor back to / would loop.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	d := s.data(r, "login", "Sign in")
	d.SignedIn = false
	d.Expired = r.URL.Query().Has("expired")
	s.render(w, r, http.StatusOK, d)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusNotFound, s.data(r, "notfound", "Not found"))
}

// render writes a page. It renders into a buffer first, so a template
// error becomes a clean 500 rather than half a page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	var buf bytes.Buffer
	if err := s.pages[d.Page].ExecuteTemplate(&buf, "base.html", d); err != nil {
		id := httpserver.RequestID(r.Context())
		s.log.ErrorContext(r.Context(), "render page", "request_id", id, "page", d.Page, "error", err)
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "This page failed to render. Reference: "+id, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// What a page shows depends on the session cookie: never cache it
	// where the next user of a shared machine or proxy could get it.
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Cookie")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // the client may be gone; nothing to do about it
}

// requireSession sends a visitor without the gateway's session cookie to
// /login, as the tutorial's middleware.ts does. It looks only at whether
// the cookie is there: its value is sealed by the gateway and means
// nothing here. Whether the session is still good is the gateway's to
// decide on every API call; when it answers 401 the page's script goes to
// /login.
func (s *server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hasSession(r) {
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Add("Vary", "Cookie")
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hasSession reports whether the request carries the session cookie,
// whole (NAME) or split by the gateway into parts (NAME_0, NAME_1, …).
func (s *server) hasSession(r *http.Request) bool {
	for _, name := range []string{s.cookieName, s.cookieName + "_0"} {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return true
		}
	}
	return false
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}
