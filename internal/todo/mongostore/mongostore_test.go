package mongostore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"gatehouse/internal/testenv"
	"gatehouse/internal/todo"
	"gatehouse/internal/todo/storetest"
)

// openStore opens a store on a fresh database of the test server and drops
// that database when the test ends.
func openStore(t *testing.T) *Store {
	t.Helper()
	uri := testenv.MongoURI(t)
	name := testenv.DBName(t)
	s, err := Open(t.Context(), Config{URI: uri, Database: name})
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.db.Drop(ctx); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) todo.Store { return openStore(t) })
}

func TestReopen(t *testing.T) {
	// A second Open of the same database finds the indexes in place and
	// the data intact: start-up is idempotent.
	s := openStore(t)
	svc := todo.NewService(s, nil)
	created, err := svc.Create(t.Context(), "alice", todo.Draft{Title: "persist me"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), Config{URI: testenv.MongoURI(t), Database: s.db.Name()})
	if err != nil {
		t.Fatalf("second Open = %v", err)
	}
	defer s2.Close()
	got, err := s2.Get(t.Context(), "alice", created.ID)
	if err != nil {
		t.Fatalf("Get after reopen = %v", err)
	}
	if diff := cmp.Diff(created, got); diff != "" {
		t.Errorf("Get after reopen (-want +got):\n%s", diff)
	}
	specs, err := s2.coll.Indexes().ListSpecifications(t.Context())
	if err != nil {
		t.Fatalf("list indexes: %v", err)
	}
	var names []string
	for _, spec := range specs {
		names = append(names, spec.Name)
	}
	slices.Sort(names)
	want := []string{"_id_", "todos_by_owner", "todos_by_owner_completed"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("indexes (-want +got):\n%s", diff)
	}
}

func TestCancelledContextPassesThrough(t *testing.T) {
	s := openStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Get(ctx, "alice", todo.NewID())
	if !errors.Is(err, context.Canceled) || errors.Is(err, todo.ErrUnavailable) {
		t.Errorf("Get(cancelled ctx) = %v, want context.Canceled and not ErrUnavailable", err)
	}
}

func TestDriverFailureIsUnavailable(t *testing.T) {
	t.Run("closed client", func(t *testing.T) {
		s, err := Open(t.Context(), Config{URI: testenv.MongoURI(t), Database: testenv.DBName(t)})
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		checkUnavailable(t, s)
	})
	t.Run("server down", func(t *testing.T) {
		// Open refuses a server that does not answer, so build the store
		// by hand. The driver reports its server selection timeout as
		// context.DeadlineExceeded although the caller's context is live.
		client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300"))
		if err != nil {
			t.Fatal(err)
		}
		defer client.Disconnect(context.Background())
		db := client.Database("todoapi")
		s := &Store{client: client, db: db, coll: db.Collection(collectionName)}
		checkUnavailable(t, s)
		// The caller's own deadline, though, is not the store's failure.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		if err := s.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, todo.ErrUnavailable) {
			t.Errorf("Ping(short ctx) = %v, want context.DeadlineExceeded and not ErrUnavailable", err)
		}
	})
}

func checkUnavailable(t *testing.T, s *Store) {
	t.Helper()
	if _, err := s.Get(t.Context(), "alice", todo.NewID()); !errors.Is(err, todo.ErrUnavailable) {
		t.Errorf("Get = %v, want ErrUnavailable", err)
	}
	if err := s.Ping(t.Context()); !errors.Is(err, todo.ErrUnavailable) {
		t.Errorf("Ping = %v, want ErrUnavailable", err)
	}
}

// TestOpenFailureHidesURI needs no server: nothing listens on port 1.
func TestOpenFailureHidesURI(t *testing.T) {
	tests := []struct {
		name, uri, secret string
	}{
		{"unreachable", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=300", ""},
		{"unreachable with password", "mongodb://user:s3cret@127.0.0.1:1/?serverSelectionTimeoutMS=300", "s3cret"},
		{"unreachable with escaped password", "mongodb://user:s3cr%40t@127.0.0.1:1/?serverSelectionTimeoutMS=300", "s3cr"},
		// The driver quotes an option value it cannot unescape.
		{"unparsable credential option", "mongodb://user:pw@127.0.0.1:1/?authMechanism=MONGODB-AWS" +
			"&authMechanismProperties=AWS_SESSION_TOKEN:s3cret%zz", "s3cret"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type result struct {
				s   *Store
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := Open(t.Context(), Config{URI: tt.uri})
				done <- result{s, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(20 * time.Second):
				// The URI's 300ms server selection timeout was not honoured.
				t.Fatal("Open did not return within 20s")
			}
			if r.err == nil {
				r.s.Close()
				t.Fatal("Open = nil error, want failure")
			}
			msg := r.err.Error()
			if tt.uri != "" && strings.Contains(msg, tt.uri) {
				t.Errorf("Open error %q contains the URI", msg)
			}
			if tt.secret != "" && strings.Contains(msg, tt.secret) {
				t.Errorf("Open error %q contains the password %q", msg, tt.secret)
			}
			if !strings.HasPrefix(msg, "open mongodb store: ") {
				t.Errorf("Open error %q does not say what failed", msg)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	uri := "mongodb://admin:p%40ss@db:27017/?tlsCertificateKeyFilePassword=k3y&appName=x"
	cause := errors.New("socket closed")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"whole URI", fmt.Errorf("bad uri %q: %w", uri, cause), `bad uri "[redacted]": socket closed`},
		{"password as written", fmt.Errorf("invalid password p%%40ss: %w", cause), "invalid password [redacted]: socket closed"},
		{"password decoded", fmt.Errorf("auth p@ss: %w", cause), "auth [redacted]: socket closed"},
		{"key file password", fmt.Errorf("value k3y: %w", cause), "value [redacted]: socket closed"},
		{"nothing secret", fmt.Errorf("dial db:27017: %w", cause), "dial db:27017: socket closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := redact(tt.err, uriSecrets(uri))
			if got.Error() != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.err, got, tt.want)
			}
			if !errors.Is(got, cause) {
				t.Errorf("redact(%q) lost the cause", tt.err)
			}
		})
	}
}
