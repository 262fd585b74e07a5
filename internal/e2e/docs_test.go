package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDocsRenderOffline opens the API's Swagger page in Chromium with no
// network but loopback, as the tutorial's step 01 does, and checks that the
// operations render: everything the page needs is in the binary.
func TestDocsRenderOffline(t *testing.T) {
	b := NewBrowser(t)
	_, addrs := Start(t, nil, []string{"api listening"},
		"api", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-format", "json")
	base := "http://" + addrs["api listening"]

	if err := chromedp.Do(b.Ctx, chromedp.Navigate(base+"/docs")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`.opblock-summary-path[data-path="/headers"]`)); err != nil {
		t.Fatalf("Swagger UI did not render the /headers operation: %v", err)
	}
	ops, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.opblock').length`))
	if err != nil {
		t.Fatal(err)
	}
	if ops < 12 {
		t.Errorf("Swagger UI shows %d operations, want at least 12", ops)
	}
	t.Logf("screenshot: %s", b.Screenshot(t, "docs"))
	if off := b.NonLoopback(); len(off) > 0 {
		t.Errorf("/docs requested non-loopback URLs: %v", off)
	}
}
