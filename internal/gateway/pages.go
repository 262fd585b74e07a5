package gateway

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/problem"
)

//go:embed assets/page.html assets/style.css
var assets embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(assets, "assets/page.html"))
	styleCSS, _  = assets.ReadFile("assets/style.css") // embedded: cannot fail
)

// page is what the gateway's one HTML template shows.
type page struct {
	Title, Heading, Message string
	Error                   bool
	Button, Action, Method  string
	RD                      string
	Disabled                bool
	Link, LinkText          string
	RequestID               string
}

// Fixed public texts; the cause goes to the log only.
const (
	msgProviderDown = "The identity provider cannot be reached right now, so nobody can sign in. Try again in a minute."
	msgLoginState   = "This sign-in link has expired or was not started in this browser. Sign in again (cookies must be enabled)."
	msgStore        = "The session store is not answering. Try again shortly."
	msgInternal     = "The gateway failed to handle this request."
)

// pageCSP allows the page nothing but its own stylesheet and forms that
// post back to the gateway; no script at all.
const pageCSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (g *Gateway) render(w http.ResponseWriter, r *http.Request, status int, p page) {
	if p.RequestID == "" && status >= 400 {
		p.RequestID = requestID(r)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		g.log.ErrorContext(r.Context(), "render page", "request_id", requestID(r), "error", err)
		plain(w, http.StatusInternalServerError, msgInternal)
		return
	}
	httpserver.WriteHTML(w, status, pageCSP, buf.Bytes())
}

// fail is the gateway's one error exit: the cause goes to the log with the
// request id; the client gets a fixed message and the id, as an HTML page
// for a browser navigation and a problem document otherwise. Never a
// stack, a token or an internal address.
func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, status int, public string, cause error) {
	id := requestID(r)
	level := g.log.InfoContext
	if status >= 500 {
		level = g.log.ErrorContext
	}
	level(r.Context(), "request failed", "request_id", id, "status", status, "path", r.URL.Path, "error", cause)
	if status == 499 {
		w.WriteHeader(status) // nobody reads it; the access log and metrics do
		return
	}
	if isNavigation(r) {
		g.render(w, r, status, page{
			Title: http.StatusText(status), Heading: http.StatusText(status), Message: public, Error: true,
			Link: "/oauth2/sign_in", LinkText: "Back to sign-in", RequestID: id,
		})
		return
	}
	problem.Write(w, problem.Details{Status: status, Detail: public, RequestID: id})
}

// unauthorizedJSON answers a script's request without a session: 401 with
// the URL that signs the user in.
func (g *Gateway) unauthorizedJSON(w http.ResponseWriter, r *http.Request, signInURL string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse"`)
	problem.WriteDocument(w, struct {
		problem.Details
		SignInURL string `json:"sign_in_url"`
	}{
		Details: problem.Details{Type: "about:blank", Title: "Unauthorized", Status: http.StatusUnauthorized,
			Detail: "Sign in first: send the user to sign_in_url.", RequestID: requestID(r)},
		SignInURL: signInURL,
	}, http.StatusUnauthorized)
}

func (g *Gateway) notFound(w http.ResponseWriter, r *http.Request) {
	g.fail(w, r, http.StatusNotFound, "There is nothing at this path.", errNoRoute)
}

func requestID(r *http.Request) string { return httpserver.RequestID(r.Context()) }

var errNoRoute = errors.New("no route or upstream for this path")

// startURL is the absolute URL that signs the user in and comes back to
// rd.
func (g *Gateway) startURL(r *http.Request, rd string) string {
	scheme, host := g.origin(r)
	return scheme + "://" + host + "/oauth2/start?rd=" + url.QueryEscape(rd)
}
