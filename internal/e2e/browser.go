package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"gatehouse/internal/testenv"
)

const browserHint = "install Debian's Chromium: apt-get install chromium (or set GATEHOUSE_CHROMIUM to a Chrome binary)"

// Browser is a fresh headless Chromium with a new profile whose only
// network is loopback: every other host fails to resolve, as if the
// machine were offline. It records every URL the page requests.
type Browser struct {
	Ctx context.Context

	mu       sync.Mutex
	requests []string
}

// NewBrowser starts Chromium for t, or skips (fails when
// GATEHOUSE_TEST_REQUIRE lists "browser") when it is not installed.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	path := os.Getenv("GATEHOUSE_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		testenv.Require(t, "browser", browserHint)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Offline but for loopback: nothing the page loads may come from
		// elsewhere (no CDN, no fonts, no analytics).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &Browser{Ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return b
}

// NonLoopback returns every requested URL whose host is not loopback.
func (b *Browser) NonLoopback() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, raw := range b.requests {
		u, err := url.Parse(raw)
		if err != nil {
			out = append(out, raw)
			continue
		}
		if u.Scheme == "data" || u.Scheme == "blob" || u.Scheme == "about" {
			continue
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			continue
		}
		out = append(out, raw)
	}
	return out
}

// Screenshot saves a full-page PNG as a test artefact under
// internal/e2e/artifacts (or $GATEHOUSE_ARTIFACTS) and returns its path.
func (b *Browser) Screenshot(t testing.TB, name string) string {
	t.Helper()
	// Right after a navigation the page may not be laid out yet ("Cannot
	// take screenshot with 0 width"): wait for it to finish loading, and
	// retry briefly.
	var png []byte
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
		ready, rerr := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && document.documentElement.clientWidth > 0`))
		if rerr == nil && ready {
			png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		} else {
			err = fmt.Errorf("page not ready: %v", rerr)
		}
		cancel()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("GATEHOUSE_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
