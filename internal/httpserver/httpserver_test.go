package httpserver_test

import (
	"context"
	"encoding/json"
	"gatehouse/internal/testenv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/httpserver"
)

func TestRequestIDAndAccessLog(t *testing.T) {
	var logs testenv.LogBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	var seen string
	h := httpserver.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = httpserver.RequestID(r.Context())
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	}), logger)

	tests := []struct {
		name, incoming string
		keep           bool
	}{
		{"generated", "", false},
		{"kept from nginx", "0123456789abcdef0123456789abcdef", true},
		{"log injection refused", "x\n{\"level\":\"ERROR\"}", false},
		{"too long refused", strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/path?code=secret", nil)
			if tt.incoming != "" {
				r.Header.Set("X-Request-Id", tt.incoming)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			id := w.Header().Get("X-Request-Id")
			if id == "" || id != seen {
				t.Fatalf("response id %q, handler saw %q", id, seen)
			}
			if (id == tt.incoming) != tt.keep {
				t.Errorf("incoming %q → id %q; keep = %v", tt.incoming, id, tt.keep)
			}
		})
	}
	var last map[string]any
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"request_id", "method", "path", "status", "duration_ms", "bytes"} {
		if _, ok := last[k]; !ok {
			t.Errorf("access log line lacks %q: %v", k, last)
		}
	}
	if last["status"] != float64(418) || last["path"] != "/path" {
		t.Errorf("access log = %v, want status 418 and path /path", last)
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("access log contains the query string: %s", logs.String())
	}
}

func TestPanicBecomesProblem(t *testing.T) {
	var logs testenv.LogBuffer
	h := httpserver.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: internal detail") }),
		slog.New(slog.NewJSONHandler(&logs, nil)))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 500 || w.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("panic answered %d %q", w.Code, w.Header().Get("Content-Type"))
	}
	if strings.Contains(w.Body.String(), "internal detail") {
		t.Errorf("panic text leaked to the client: %s", w.Body)
	}
	if !strings.Contains(logs.String(), "internal detail") || !strings.Contains(logs.String(), w.Header().Get("X-Request-Id")) {
		t.Errorf("panic not logged with the request id")
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	ln, err := httpserver.Listen(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- httpserver.Serve(ctx, ln, h, slog.New(slog.DiscardHandler), httpserver.Config{})
	}()
	body := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body <- string(b)
	}()
	<-started
	cancel()
	if got := <-body; got != "finished" {
		t.Errorf("in-flight request got %q, want it to finish", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after graceful shutdown", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/"); err == nil {
		t.Errorf("server still accepts after shutdown")
	}
}
