package idp

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"gatehouse/internal/httpserver"
)

//go:embed assets/login.html assets/page.html assets/idp.css
var assets embed.FS

var (
	loginTemplate = template.Must(template.ParseFS(assets, "assets/login.html"))
	pageTemplate  = template.Must(template.ParseFS(assets, "assets/page.html"))
)

// loginView is what the login page shows.
type loginView struct {
	Base, Issuer string
	ID           string // the auth request id, in a hidden field
	Client       string
	Email        string
	Error        string
	Demo         bool
}

// pageView is what an error or information page shows.
type pageView struct {
	Base, Issuer    string
	Title, Heading  string
	Message, Detail string
	Error           bool
	Links           []link
	RequestID       string
}

type link struct{ URL, Text string }

// Fixed public texts; the cause of a failure goes to the log only.
const (
	msgLoginExpired = "This sign-in link has expired or was already used. Go back to the application and sign in again."
	msgCrossSite    = "This sign-in form was sent from another site, so it was refused. Open the application and sign in from there."
	msgBadRequest   = "This request could not be understood."
	msgInternal     = "The provider failed to handle this request."
)

// pageCSP allows a page its own stylesheet and nothing else: no script,
// no frames, no foreign forms.
const pageCSP = "default-src 'none'; style-src 'self'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// loginCSP is pageCSP without form-action. Browsers check form-action
// along the whole redirect chain that follows a submission, and after this
// form the chain runs past the client's redirect URI to wherever the
// client sends the user next (the gateway's rd), which the provider cannot
// know. The form posts to this origin only (html/template, no script, so
// nothing can inject another form), and the POST is checked for same
// origin.
const loginCSP = "default-src 'none'; style-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'"

func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, status int, a *authRequest, email, message string) {
	v := loginView{Base: p.base, Issuer: p.issuer, ID: a.id, Client: a.clientID, Email: email, Error: message, Demo: p.demo}
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, v); err != nil {
		p.fail(w, r, http.StatusInternalServerError, msgInternal, err)
		return
	}
	httpserver.WriteHTML(w, status, loginCSP, buf.Bytes())
}

func (p *Provider) renderPage(w http.ResponseWriter, r *http.Request, status int, v pageView) {
	v.Base, v.Issuer = p.base, p.issuer
	if v.RequestID == "" && status >= 400 {
		v.RequestID = httpserver.RequestID(r.Context())
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		p.log.ErrorContext(r.Context(), "render page", "request_id", httpserver.RequestID(r.Context()), "error", err)
		http.Error(w, msgInternal, http.StatusInternalServerError)
		return
	}
	httpserver.WriteHTML(w, status, pageCSP, buf.Bytes())
}

// fail is the package's one error exit for browser pages: the cause goes
// to the log with the request id; the page shows a fixed message and the
// id. It never redirects, so a request that could not be checked never
// sends anyone anywhere.
func (p *Provider) fail(w http.ResponseWriter, r *http.Request, status int, public string, cause error) {
	id := httpserver.RequestID(r.Context())
	log := p.log.InfoContext
	if status >= 500 {
		log = p.log.ErrorContext
	}
	log(r.Context(), "request refused", "request_id", id, "status", status, "path", r.URL.Path, "error", cause)
	title := "Cannot continue"
	if status >= 500 {
		title = "Something went wrong"
	}
	p.renderPage(w, r, status, pageView{Title: title, Heading: title, Message: public, Error: true, RequestID: id})
}

// idpCSS is the stylesheet, read from the binary once (embedded: the
// read cannot fail).
var idpCSS, _ = assets.ReadFile("assets/idp.css")

// serveCSS serves the stylesheet.
var serveCSS = httpserver.Asset("text/css; charset=utf-8", idpCSS)

// home says what this is and where discovery is.
func (p *Provider) home(w http.ResponseWriter, r *http.Request) {
	p.renderPage(w, r, http.StatusOK, pageView{
		Title:   "OpenID provider",
		Heading: "Development OpenID provider",
		Message: "Applications sign users in here with OpenID Connect; point them at the issuer below.",
		Detail:  "Issuer: " + p.issuer,
		Links: []link{
			{URL: p.base + "/.well-known/openid-configuration", Text: "Discovery document"},
			{URL: p.base + "/keys", Text: "Signing keys (JWKS)"},
		},
	})
}
