package todoapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/todo"
	"gatehouse/internal/todo/sqlitestore"
	"gatehouse/internal/todo/storetest"
	"gatehouse/internal/todo/todoapi"
)

// benchServer is the API on the embedded store behind the real middleware
// (request ids, access log to a discarding handler) on a loopback socket.
func benchServer(b *testing.B) *httptest.Server {
	store, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "todos.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	logger := slog.New(slog.DiscardHandler)
	api := todoapi.New(todoapi.Config{Service: todo.NewService(store, nil), Store: store, Logger: logger})
	srv := httptest.NewServer(httpserver.Wrap(api, logger))
	b.Cleanup(srv.Close)
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return srv
}

func BenchmarkHTTPCreate(b *testing.B) {
	srv := benchServer(b)
	client := srv.Client()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Post(srv.URL+"/", "application/json", strings.NewReader(`{"title":"benchmark","description":"one todo"}`))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
}

func BenchmarkHTTPListPage100Of10000(b *testing.B) {
	store, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "todos.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	storetest.Seed(b, store, todoapi.Anonymous, 10000)
	logger := slog.New(slog.DiscardHandler)
	api := todoapi.New(todoapi.Config{Service: todo.NewService(store, nil), Store: store, Logger: logger})
	srv := httptest.NewServer(httpserver.Wrap(api, logger))
	b.Cleanup(srv.Close)
	client := srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		res, err := client.Get(srv.URL + "/?limit=100")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
