package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// BenchmarkLoadGateway is the load harness: the real `gatehouse gateway`
// and `gatehouse api` (started through cli.Main, as the binary runs them)
// on loopback, a signed-in session from mockoidc, then 32 concurrent
// clients doing GET /headers through the gateway, which checks the session
// and proxies to the API. It reports requests per second and latency
// percentiles. Run it with:
//
//	go test -run '^$' -bench LoadGateway -benchtime 20000x ./internal/e2e
//
// It targets 127.0.0.1 only and ends after b.N requests.
func BenchmarkLoadGateway(b *testing.B) {
	idp, err := mockoidc.Run()
	if err != nil {
		b.Fatal(err)
	}
	defer idp.Shutdown()
	_, apiAddrs := Start(b, nil, []string{"api listening"},
		"api", "--addr", "127.0.0.1:0", "--data-dir", b.TempDir(), "--log-format", "json")
	var secret [32]byte
	rand.Read(secret[:])
	cfg := idp.Config()
	_, gwAddrs := Start(b, map[string]string{
		"OAUTH2_PROXY_CLIENT_ID":            cfg.ClientID,
		"OAUTH2_PROXY_CLIENT_SECRET":        cfg.ClientSecret,
		"OAUTH2_PROXY_COOKIE_SECRET":        base64.RawURLEncoding.EncodeToString(secret[:]),
		"OAUTH2_PROXY_EMAIL_DOMAINS":        "*",
		"OAUTH2_PROXY_COOKIE_SECURE":        "false",
		"OAUTH2_PROXY_SKIP_PROVIDER_BUTTON": "true",
		"OAUTH2_PROXY_UPSTREAMS":            "http://" + apiAddrs["api listening"],
	}, []string{"gateway listening"},
		"gateway", "--http-address", "127.0.0.1:0", "--oidc-issuer-url", idp.Issuer(), "--log-format", "json")
	base := "http://" + gwAddrs["gateway listening"]
	for i := 0; ; i++ {
		res, err := http.Get(base + "/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if i > 500 {
			b.Fatal("gateway never became ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Sign in once, as a browser.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	req, _ := http.NewRequest("GET", base+"/headers", nil)
	req.Header.Set("Accept", "text/html")
	res, err := browser.Do(req)
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("sign-in: %v %v", res, err)
	}
	res.Body.Close()
	u, _ := url.Parse(base)
	cookies := jar.Cookies(u)

	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: transport}
	var mu sync.Mutex
	var latencies []time.Duration
	b.SetParallelism(16) // 16 × GOMAXPROCS(2) = 32 clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			req, _ := http.NewRequest("GET", base+"/headers", nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			t0 := time.Now()
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			local = append(local, time.Since(t0))
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		b.ReportMetric(float64(n)/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(latencies[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(latencies[n*99/100].Microseconds())/1000, "p99-ms")
	}
}
