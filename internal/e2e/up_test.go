package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestUpInChromium is the newcomer's path, in a real browser, against
// `gatehouse up` on free loopback ports: open the client, get sent to
// /login, sign in at the embedded provider as alice, use every feature of
// the list, look at /headers, sign out. Every page is saved as a
// screenshot under internal/e2e/artifacts.
func TestUpInChromium(t *testing.T) {
	b := NewBrowser(t)
	p, addrs := Start(t, nil, []string{"api listening", "idp listening", "gateway listening", "web listening"},
		"up", "--data-dir", t.TempDir(), "--log-format", "json",
		"--web-addr", "127.0.0.1:0", "--gateway-addr", "127.0.0.1:0", "--idp-addr", "127.0.0.1:0", "--api-addr", "127.0.0.1:0")
	webURL := "http://" + addrs["web listening"]
	gatewayURL := "http://" + addrs["gateway listening"]
	waitReady(t, gatewayURL+"/ready")
	d := &webDriver{t: t, b: b}
	d.watchConsole()

	// The client sends a visitor without a session to /login.
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`location.pathname === "/login"`)
	t.Logf("screenshot: %s", b.Screenshot(t, "1-login"))

	// Sign in → the provider's form → back on the list.
	d.do(chromedp.Click(chromedp.ID("sign-in")))
	d.waitJS(`document.getElementById("email") !== null`)
	t.Logf("screenshot: %s", b.Screenshot(t, "2-provider"))
	d.do(chromedp.SendKeys(chromedp.ID("email"), "alice@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), "password"+kb.Enter))
	d.waitJS(`location.origin === "` + webURL + `" && location.pathname === "/" && !document.getElementById("empty").hidden`)

	// The session cookie is the gateway's, HttpOnly.
	cookies, err := chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{gatewayURL + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "_oauth2_proxy" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly {
		t.Fatalf("session cookie = %+v, want _oauth2_proxy, HttpOnly", session)
	}

	// Add with Enter, edit, complete, withdraw, delete.
	d.do(chromedp.SendKeys(chromedp.ID("add-title"), "Try Gatehouse"+kb.Enter))
	d.waitJS(`document.querySelectorAll("#todos li").length === 1`)
	id := d.evalString(`document.querySelector("#todos li").dataset.id`)
	item := fmt.Sprintf(`#todos li[data-id=%q]`, id)
	d.do(chromedp.Click(chromedp.CSS(item + " .edit")))
	d.waitJS(`document.activeElement.id === "edit-title-` + id + `"`)
	d.do(chromedp.Clear(chromedp.ID("edit-title-"+id)),
		chromedp.SendKeys(chromedp.ID("edit-title-"+id), "Try Gatehouse, signed in"+kb.Enter))
	d.waitJS(`document.querySelector('` + item + ` .title')?.textContent === "Try Gatehouse, signed in"`)
	d.do(chromedp.Click(chromedp.CSS(item + " .toggle")))
	d.waitJS(`document.querySelector('` + item + `').classList.contains("done")`)
	t.Logf("screenshot: %s", b.Screenshot(t, "3-list"))
	d.do(chromedp.Click(chromedp.CSS(item + " .toggle")))
	d.waitJS(`!document.querySelector('` + item + `').classList.contains("done") && !document.querySelector('` + item + `').hasAttribute("aria-busy")`)
	d.do(chromedp.Click(chromedp.CSS(item + " .delete")))
	d.waitJS(`document.querySelectorAll("#todos li").length === 0 && !document.getElementById("empty").hidden`)

	// /headers: what the API saw through the gateway.
	d.do(chromedp.Navigate(webURL + "/headers"))
	d.waitJS(`document.getElementById("headers").textContent.startsWith("{")`)
	t.Logf("screenshot: %s", b.Screenshot(t, "4-headers"))
	var seen map[string]string
	if err := json.Unmarshal([]byte(d.evalString(`document.getElementById("headers").textContent`)), &seen); err != nil {
		t.Fatalf("/headers does not show JSON: %v", err)
	}
	want := map[string]string{
		"host":               addrs["gateway listening"],
		"x-forwarded-host":   addrs["gateway listening"],
		"x-forwarded-email":  "alice@example.com",
		"x-forwarded-groups": "admins",
		"origin":             webURL,
	}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("/headers %s = %q, want %q", k, seen[k], v)
		}
	}
	if strings.Contains(seen["cookie"], "_oauth2_proxy") {
		t.Errorf("the API saw the session cookie: %q", seen["cookie"])
	}

	// Sign out → back on /login; the API now answers 401 through the
	// gateway, even with the old cookie.
	d.do(chromedp.Navigate(webURL + "/"))
	d.waitJS(`document.getElementById("sign-out") !== null`)
	d.do(chromedp.Click(chromedp.ID("sign-out")))
	d.waitJS(`location.origin === "` + webURL + `" && location.pathname === "/login"`)
	t.Logf("screenshot: %s", b.Screenshot(t, "5-signed-out"))
	req, _ := http.NewRequest("GET", gatewayURL+"/", nil)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("API through the gateway after sign-out = %d, want 401", res.StatusCode)
	}
	cookies, _ = chromedp.Call(b.Ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{gatewayURL + "/"}})
	for _, c := range cookies.Cookies {
		if c.Name == "_oauth2_proxy" {
			t.Errorf("the session cookie survived sign-out")
		}
	}

	if off := b.NonLoopback(); len(off) > 0 {
		t.Errorf("requests left loopback: %v", off)
	}
	if problems := d.consoleProblems(); len(problems) > 0 {
		t.Errorf("console problems: %v", problems)
	}
	if code := p.Stop(); code != 0 {
		t.Errorf("gatehouse up exit code after stop = %d, want 0", code)
	}
}

func waitReady(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(u)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered 200", u)
}
