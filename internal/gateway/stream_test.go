package gateway_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/gateway"
)

// TestStreamingAndUpgrade: responses stream through the proxy as the
// upstream flushes them, and a WebSocket-style Upgrade is tunnelled.
func TestStreamingAndUpgrade(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/events":
			w.Header().Set("Content-Type", "text/event-stream")
			for i := range 3 {
				fmt.Fprintf(w, "data: %d\n\n", i)
				w.(http.Flusher).Flush()
				time.Sleep(50 * time.Millisecond)
			}
		case "/ws":
			if r.Header.Get("Upgrade") != "websocket" {
				http.Error(w, "want upgrade", 400)
				return
			}
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
			buf.Flush()
			line, _ := buf.ReadString('\n')
			buf.WriteString("echo " + line)
			buf.Flush()
		}
	}))
	defer upstream.Close()
	e := newEnv(t, func(c *gateway.Config) { c.Upstreams = []string{upstream.URL} })
	c := e.browser(t)
	get(t, c, e.gw.URL+"/events") // signs in
	ck := e.sessionCookie(c)

	// Streaming: the first event arrives before the upstream has finished.
	req, _ := http.NewRequest("GET", e.gw.URL+"/events", nil)
	req.AddCookie(ck)
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	first, err := bufio.NewReader(res.Body).ReadString('\n')
	if err != nil || first != "data: 0\n" {
		t.Fatalf("first event = %q, %v", first, err)
	}
	if time.Since(start) > 90*time.Millisecond {
		t.Logf("first event took %v (buffered?)", time.Since(start))
	}

	// Upgrade: the tunnel carries bytes both ways.
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.gw.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: %s=%s\r\n\r\n", ck.Name, ck.Value)
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	if !strings.Contains(status, "101") {
		t.Fatalf("upgrade answered %q, want 101", status)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	fmt.Fprintf(conn, "hello\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, _ := br.ReadString('\n'); got != "echo hello\n" {
		t.Errorf("through the tunnel got %q, want %q", got, "echo hello\n")
	}
}
