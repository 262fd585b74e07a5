package idp

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"gatehouse/internal/httpserver"
)

// The login page. GET shows the form for a pending authorization request;
// POST checks the password and, on success, marks the request done and
// sends the browser to the library's callback, which issues the code.
//
// The form is protected against cross-site submission twice: it must
// name a pending authorization request (an unguessable id, 256 bits,
// that only this browser was sent to), and http.CrossOriginProtection
// refuses a POST that the browser says came from another origin
// (Sec-Fetch-Site, else Origin against Host).

// loginPage answers GET /login?authRequestID=ID.
func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	a, ok := p.store.pending(r.URL.Query().Get("authRequestID"))
	if !ok {
		p.fail(w, r, http.StatusBadRequest, msgLoginExpired, errors.New("login page: unknown or expired request"))
		return
	}
	if a.done {
		http.Redirect(w, r, p.callbackURL(a.id), http.StatusSeeOther)
		return
	}
	p.renderLogin(w, r, http.StatusOK, a, a.loginHint, "")
}

// login answers POST /login.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if err := p.csrf.Check(r); err != nil {
		p.fail(w, r, http.StatusForbidden, msgCrossSite, fmt.Errorf("login: %w", err))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		p.fail(w, r, http.StatusBadRequest, msgBadRequest, err)
		return
	}
	a, ok := p.store.pending(r.PostForm.Get("authRequestID"))
	if !ok {
		p.fail(w, r, http.StatusBadRequest, msgLoginExpired, errors.New("login: unknown or expired request"))
		return
	}
	if a.done {
		http.Redirect(w, r, p.callbackURL(a.id), http.StatusSeeOther)
		return
	}
	email, password := r.PostForm.Get("email"), r.PostForm.Get("password")
	if len(email) > 254 {
		email = email[:254]
	}
	if email == "" || password == "" {
		p.renderLogin(w, r, http.StatusOK, a, email, "Enter your email address and your password.")
		return
	}
	now := p.now()
	account, address := normalizeEmail(email), clientAddress(r)
	if wait := p.limits.begin(account, address, now); wait > 0 {
		secs := int(wait.Round(time.Second) / time.Second)
		secs = max(secs, 1)
		p.log.WarnContext(r.Context(), "sign-in rate limited", "request_id", httpserver.RequestID(r.Context()),
			"client_id", a.clientID, "remote_addr", address, "retry_after_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		p.renderLogin(w, r, http.StatusTooManyRequests, a, email,
			fmt.Sprintf("Too many failed sign-in attempts. Wait %s, then try again.", plural(secs, "second")))
		return
	}
	acct, err := p.store.users.authenticate(email, password)
	p.limits.end(account, address, p.now(), err != nil)
	if err != nil {
		attrs := []any{"request_id", httpserver.RequestID(r.Context()), "client_id", a.clientID, "remote_addr", address, "reason", err.Error()}
		if acct != nil {
			attrs = append(attrs, "user", acct.subject, "email", acct.email)
		}
		p.log.InfoContext(r.Context(), "sign-in failed", attrs...)
		p.renderLogin(w, r, http.StatusOK, a, email, "The email address or password is not correct.")
		return
	}
	if !p.store.complete(a.id, acct.subject) {
		p.fail(w, r, http.StatusBadRequest, msgLoginExpired, errors.New("login: request expired during sign-in"))
		return
	}
	p.log.InfoContext(r.Context(), "signed in", "request_id", httpserver.RequestID(r.Context()),
		"client_id", a.clientID, "user", acct.subject, "email", acct.email)
	http.Redirect(w, r, p.callbackURL(a.id), http.StatusSeeOther)
}

// callbackURL is the library's endpoint that issues the code.
func (p *Provider) callbackURL(id string) string {
	return p.base + "/authorize/callback?id=" + url.QueryEscape(id)
}

// clientAddress is the peer's IP. X-Forwarded-For is not believed: this
// provider is reached directly, and a forwarded address could be forged
// to dodge the limit.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
