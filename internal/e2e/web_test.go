package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestWebClient drives `gatehouse web` in Chromium against the real
// `gatehouse api`, behind a stand-in for the gateway: the browser calls
// the API cross-origin with the session cookie, as in the tutorial.
func TestWebClient(t *testing.T) {
	b := NewBrowser(t)
	_, apiAddrs := Start(t, nil, []string{"api listening"},
		"api", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
	apiURL := "http://" + apiAddrs["api listening"]
	gw := newWebGatewayStandIn(t, apiURL)
	_, webAddrs := Start(t, nil, []string{"web listening"},
		"web", "--addr", "127.0.0.1:0", "--api-url", gw.URL, "--log-format", "json")
	webURL := "http://" + webAddrs["web listening"]
	gw.allowOrigin(webURL)
	d := &webDriver{t: t, b: b}
	d.watchConsole()

	// Without the cookie, the server sends the visitor to /login, whose
	// button starts the gateway's login and comes back here.
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`location.pathname === "/login"`)
	href := d.evalString(`document.getElementById("sign-in").href`)
	if want := gw.URL + "/oauth2/start?rd=" + url.QueryEscape(webURL+"/"); href != want {
		t.Errorf("Sign in goes to %s, want %s", href, want)
	}

	// The gateway's cookie, for host 127.0.0.1: cookies ignore the port,
	// so it reaches both the stand-in and the web client.
	d.setSessionCookie(gw.URL)
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`location.pathname === "/" && !document.getElementById("empty").hidden`)
	t.Logf("screenshot: %s", b.Screenshot(t, "empty-desktop"))

	// Add with Enter; focus stays in the title field for the next one.
	d.do(chromedp.SendKeys(chromedp.ID("add-title"), "Write the web client"+kb.Enter))
	d.waitJS(`document.querySelectorAll("#todos li").length === 1`)
	d.waitJS(`document.activeElement.id === "add-title" && document.getElementById("add-title").value === ""`)
	id := d.evalString(`document.querySelector("#todos li").dataset.id`)
	if dt := d.evalString(`document.querySelector("#todos li time").getAttribute("datetime")`); dt == "" {
		t.Errorf("the todo's creation time has no datetime attribute")
	}
	if !d.evalBool(`document.getElementById("empty").hidden`) {
		t.Errorf("the empty state is still shown with a todo in the list")
	}

	// Edit in place: title and description; Enter saves, focus returns to
	// the Edit button.
	item := fmt.Sprintf(`#todos li[data-id=%q]`, id)
	d.do(chromedp.Click(chromedp.CSS(item + " .edit")))
	d.waitJS(`document.activeElement.id === "edit-title-` + id + `"`)
	t.Logf("screenshot: %s", b.Screenshot(t, "editing-desktop"))
	d.do(chromedp.SetValue(chromedp.ID("edit-description-"+id), "in Go, no framework"),
		chromedp.Clear(chromedp.ID("edit-title-"+id)),
		chromedp.SendKeys(chromedp.ID("edit-title-"+id), "Write the web client in Go"+kb.Enter))
	d.waitJS(`document.querySelector('` + item + ` .title')?.textContent === "Write the web client in Go"`)
	d.waitJS(`document.activeElement.classList.contains("edit")`)
	if got := webGetTodo(t, apiURL, id); got.Title != "Write the web client in Go" || got.Description != "in Go, no framework" {
		t.Errorf("after the edit the API has %+v", got)
	}

	// Complete, then withdraw, with the checkbox.
	d.do(chromedp.Click(chromedp.CSS(item + " .toggle")))
	d.waitJS(`document.querySelector('` + item + `').classList.contains("done")`)
	if !webGetTodo(t, apiURL, id).Completed {
		t.Errorf("the API does not have the todo completed")
	}
	d.do(chromedp.Click(chromedp.CSS(item + " .toggle")))
	d.waitJS(`!document.querySelector('` + item + `').classList.contains("done") && !document.querySelector('` + item + `').hasAttribute("aria-busy")`)
	if webGetTodo(t, apiURL, id).Completed {
		t.Errorf("the API still has the todo completed after withdrawing")
	}

	// Someone else changes the todo: the next edit is refused (If-Match,
	// 412) with a message, and Reload shows their version.
	webPutTodo(t, apiURL, id, `{"title":"Changed elsewhere"}`)
	d.do(chromedp.Click(chromedp.CSS(item + " .edit")))
	d.waitJS(`document.activeElement.id === "edit-title-` + id + `"`)
	d.do(chromedp.SendKeys(chromedp.ID("edit-title-"+id), "Mine"+kb.Enter))
	d.waitJS(`document.getElementById("error").textContent.includes("someone else changed it")`)
	t.Logf("screenshot: %s", b.Screenshot(t, "conflict-desktop"))
	d.do(chromedp.Click(chromedp.CSS(`#error button:not(.quiet)`)))
	d.waitJS(`document.querySelector('` + item + ` .title')?.textContent === "Changed elsewhere"`)

	// Delete: the empty state comes back and focus goes to the add field.
	d.do(chromedp.Click(chromedp.CSS(item + " .delete")))
	d.waitJS(`document.querySelectorAll("#todos li").length === 0 && !document.getElementById("empty").hidden`)
	d.waitJS(`document.activeElement.id === "add-title"`)

	// Two todos, one completed, for the screenshots.
	d.do(chromedp.SetValue(chromedp.ID("add-description"), "Oat milk, and bread if they have the sourdough"),
		chromedp.SendKeys(chromedp.ID("add-title"), "Buy milk"+kb.Enter))
	d.waitJS(`document.querySelectorAll("#todos li").length === 1`)
	d.do(chromedp.SendKeys(chromedp.ID("add-title"), "Book the dentist"+kb.Enter))
	d.waitJS(`document.querySelectorAll("#todos li").length === 2`)
	d.do(chromedp.Click(chromedp.CSS(`#todos li:last-child .toggle`)))
	d.waitJS(`document.querySelector("#todos li:last-child").classList.contains("done")`)
	d.do(chromedp.Blur(chromedp.CSS(`#todos li:last-child .toggle`)))

	// /headers shows what the API saw: the gateway's host, this origin.
	d.do(chromedp.Navigate(webURL + "/headers"))
	d.waitJS(`document.getElementById("headers").textContent.startsWith("{")`)
	var seen map[string]string
	if err := json.Unmarshal([]byte(d.evalString(`document.getElementById("headers").textContent`)), &seen); err != nil {
		t.Fatalf("/headers does not show JSON: %v", err)
	}
	if host := strings.TrimPrefix(gw.URL, "http://"); seen["host"] != host || seen["origin"] != webURL {
		t.Errorf("/headers shows host %q origin %q, want %q %q", seen["host"], seen["origin"], host, webURL)
	}

	// Screenshots at desktop and phone width (and the phone in dark mode).
	shots := func(suffix string) {
		d.do(chromedp.Navigate(webURL + "/"))
		d.waitJS(`document.querySelectorAll("#todos li").length === 2`)
		t.Logf("screenshot: %s", b.Screenshot(t, "list-"+suffix))
		d.do(chromedp.Navigate(webURL + "/headers"))
		d.waitJS(`document.getElementById("headers").textContent.startsWith("{")`)
		t.Logf("screenshot: %s", b.Screenshot(t, "headers-"+suffix))
		d.do(chromedp.Navigate(webURL + "/login"))
		d.waitJS(`document.readyState === "complete"`)
		t.Logf("screenshot: %s", b.Screenshot(t, "login-"+suffix))
	}
	shots("desktop")
	d.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	shots("phone")
	d.setColorScheme("dark")
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`document.querySelectorAll("#todos li").length === 2`)
	t.Logf("screenshot: %s", b.Screenshot(t, "list-phone-dark"))
	d.setColorScheme("")
	if _, err := chromedp.Call(b.Ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{}); err != nil {
		t.Fatalf("back to desktop width: %v", err)
	}

	// The gateway stops accepting the session (the cookie is still there):
	// the page's next call gets 401 and sends the user to /login.
	gw.deny.Store(true)
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`location.pathname === "/login" && location.search === "?expired=1"`)
	if !strings.Contains(d.evalString(`document.querySelector("main").textContent`), "Your session has ended") {
		t.Errorf("/login after a 401 does not say the session ended")
	}
	t.Logf("screenshot: %s", b.Screenshot(t, "login-expired-desktop"))
	gw.deny.Store(false)

	// Sign out at the gateway, back to /login; then / needs a sign-in again,
	// and the Sign in button (the stand-in signs in at once) comes back to /.
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`document.querySelectorAll("#todos li").length === 2`)
	d.do(chromedp.Click(chromedp.ID("sign-out")))
	d.waitJS(`location.pathname === "/login"`)
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`location.pathname === "/login"`)
	d.do(chromedp.Click(chromedp.ID("sign-in")))
	d.waitJS(`location.pathname === "/" && document.querySelectorAll("#todos li").length === 2`)

	if problems := d.consoleProblems(); len(problems) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(problems, "\n"))
	}
	if off := b.NonLoopback(); len(off) > 0 {
		t.Errorf("the web client requested non-loopback URLs: %v", off)
	}
}

// webGatewayStandIn stands in for `gatehouse gateway` in front of the API,
// doing only what the web client relies on: a request without the
// _oauth2_proxy cookie (any value) gets 401 problem+json with a
// sign_in_url; CORS is answered for the web client's origin; everything
// else is proxied to the API. /oauth2/start signs in at once (sets the
// cookie) and /oauth2/sign_out clears it, each redirecting to rd.
type webGatewayStandIn struct {
	*httptest.Server
	origin atomic.Pointer[string]
	deny   atomic.Bool // answer 401 even with the cookie: a session the gateway no longer accepts
}

func newWebGatewayStandIn(t *testing.T, apiURL string) *webGatewayStandIn {
	target, err := url.Parse(apiURL)
	if err != nil {
		t.Fatal(err)
	}
	g := &webGatewayStandIn{}
	g.origin.Store(new(""))
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Del("Cookie") // as the gateway strips its own cookie
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "stand-in: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := *g.origin.Load()
		if o := r.Header.Get("Origin"); o != "" && o == origin {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "ETag, Link, Location, X-Request-Id")
			h.Add("Vary", "Origin")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
				h.Set("Access-Control-Allow-Headers", "Content-Type, If-Match")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		rd := r.URL.Query().Get("rd")
		switch r.URL.Path {
		case "/oauth2/start", "/oauth2/sign_out":
			if origin == "" || !strings.HasPrefix(rd, origin+"/") {
				http.Error(w, "stand-in: rd not allowed", http.StatusBadRequest)
				return
			}
			c := &http.Cookie{Name: "_oauth2_proxy", Value: "signed-in", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode}
			if r.URL.Path == "/oauth2/sign_out" {
				c.Value, c.MaxAge = "", -1
			}
			http.SetCookie(w, c)
			http.Redirect(w, r, rd, http.StatusSeeOther)
			return
		}
		if _, err := r.Cookie("_oauth2_proxy"); err != nil || g.deny.Load() {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{
				"type": "about:blank", "title": "Unauthorized", "status": 401,
				"detail":      "Sign in first: send the user to sign_in_url.",
				"sign_in_url": g.URL + "/oauth2/start?rd=" + url.QueryEscape(g.URL+r.URL.RequestURI()),
			})
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *webGatewayStandIn) allowOrigin(origin string) { g.origin.Store(&origin) }

// webDriver runs browser steps for one test, failing it on error.
type webDriver struct {
	t *testing.T
	b *Browser

	mu       sync.Mutex
	problems []string
}

func (d *webDriver) do(steps ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.b.Ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		d.t.Fatalf("browser: %v", err)
	}
}

// waitJS waits until the JavaScript expression is true. It evaluates the
// expression again and again rather than with one Poll, since a page that
// navigates away (to /login, say) ends the context a Poll runs in.
func (d *webDriver) waitJS(expr string) {
	d.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(d.b.Ctx, 5*time.Second)
		var ok bool
		ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	loc, _ := chromedp.Run(d.b.Ctx, chromedp.Location())
	errText, _ := chromedp.Run(d.b.Ctx, chromedp.Evaluate[string](`(document.getElementById("error") || {}).textContent || ""`))
	d.t.Fatalf("waiting for %s at %s: last error %v (error region: %q)\nconsole: %v", expr, loc, err, errText, d.consoleProblems())
}

func (d *webDriver) evalString(expr string) string {
	d.t.Helper()
	v, err := chromedp.Run(d.b.Ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (d *webDriver) evalBool(expr string) bool {
	d.t.Helper()
	v, err := chromedp.Run(d.b.Ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		d.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// setSessionCookie gives the browser the gateway's session cookie, as a
// sign-in at the gateway would: host-only for the gateway's host, HttpOnly.
func (d *webDriver) setSessionCookie(gatewayURL string) {
	d.t.Helper()
	_, err := chromedp.Call(d.b.Ctx, network.SetCookie, network.SetCookieParams{
		Name: "_oauth2_proxy", Value: "e2e-session", URL: gatewayURL + "/", Path: "/",
		HTTPOnly: new(true), SameSite: network.CookieSameSiteLax,
	})
	if err != nil {
		d.t.Fatalf("set cookie: %v", err)
	}
}

func (d *webDriver) setColorScheme(scheme string) {
	d.t.Helper()
	p := emulation.SetEmulatedMediaParams{}
	if scheme != "" {
		p.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(d.b.Ctx, emulation.SetEmulatedMedia, p); err != nil {
		d.t.Fatalf("emulate prefers-color-scheme %q: %v", scheme, err)
	}
}

// watchConsole records uncaught exceptions, console.error calls and
// Content-Security-Policy violations of every page.
func (d *webDriver) watchConsole() {
	d.t.Helper()
	if _, err := chromedp.Call(d.b.Ctx, cdplog.Enable, cdp.Empty{}); err != nil {
		d.t.Fatalf("enable the log domain: %v", err)
	}
	err := chromedp.Listen(d.b.Ctx, func(ev any) {
		var p string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			p = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				p += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				p = "console.error"
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Entry.Text, "Content Security Policy") {
				p = "security: " + e.Entry.Text
			}
		}
		if p != "" {
			d.mu.Lock()
			d.problems = append(d.problems, p)
			d.mu.Unlock()
		}
	})
	if err != nil {
		d.t.Fatalf("listen to the console: %v", err)
	}
}

func (d *webDriver) consoleProblems() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.problems...)
}

type webTodo struct {
	ID, Title, Description string
	Completed              bool
}

// webGetTodo reads a todo straight from the API, behind the browser's back.
func webGetTodo(t *testing.T, apiURL, id string) webTodo {
	t.Helper()
	res, err := http.Get(apiURL + "/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var td webTodo
	if err := json.NewDecoder(res.Body).Decode(&td); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /%s = %d, %v", id, res.StatusCode, err)
	}
	return td
}

// webPutTodo changes a todo straight at the API, as another user would.
func webPutTodo(t *testing.T, apiURL, id, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, apiURL+"/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT /%s = %d", id, res.StatusCode)
	}
}
