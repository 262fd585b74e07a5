package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// binPath is the mongotest binary built once by TestMain, so the tests drive
// the real program: its stdout line, its flags, its exit paths.
var binPath string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mongotest-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "mongotest")
	// go test puts its own GOROOT/bin first on PATH, so "go" is the same
	// toolchain, and the build reuses the test build's cache.
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// server is one running mongotest process.
type server struct {
	URI    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *strings.Builder
	waited chan error
}

// start runs mongotest with args plus --exit-on-stdin-eof and waits for its
// URI line. Cleanup closes stdin and waits for the process to exit.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"--exit-on-stdin-eof"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stdin: stdin, stderr: new(strings.Builder), waited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout) // nothing more is expected; drain until exit
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("mongotest exited before printing its URI; stderr:\n%s", s.stderr)
		}
		s.URI = line
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("mongotest printed no URI within 60s; stderr:\n%s", s.stderr)
	}
	go func() { s.waited <- cmd.Wait() }()

	t.Cleanup(func() {
		_ = s.stdin.Close()
		if err := s.wait(30 * time.Second); err != nil {
			t.Errorf("mongotest exit: %v; stderr:\n%s", err, s.stderr)
		}
	})
	return s
}

// wait waits for the process to exit, killing it after timeout.
func (s *server) wait(timeout time.Duration) error {
	select {
	case err := <-s.waited:
		s.waited <- err // let a later wait see it too
		return err
	case <-time.After(timeout):
		_ = s.cmd.Process.Kill()
		s.waited <- <-s.waited // stderr is complete only once Wait returns
		return fmt.Errorf("still running after %v; killed", timeout)
	}
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		t.Fatalf("Connect(%q): %v", uri, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Disconnect(ctx); err != nil && !errors.Is(err, mongo.ErrClientDisconnected) {
			t.Errorf("Disconnect: %v", err)
		}
	})
	return c
}

func TestURILine(t *testing.T) {
	s := start(t)
	if !strings.HasPrefix(s.URI, "mongodb://127.0.0.1:") || !strings.HasSuffix(s.URI, "/") {
		t.Errorf("URI line = %q, want mongodb://127.0.0.1:PORT/", s.URI)
	}
	if strings.HasSuffix(s.URI, ":0/") {
		t.Errorf("URI line = %q, want the port actually chosen, not 0", s.URI)
	}

	// A normal session logs nothing: FerretDB's info lines stay quiet.
	c := connect(t, s.URI)
	if err := c.Ping(t.Context(), nil); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := c.Disconnect(t.Context()); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	_ = s.stdin.Close()
	if err := s.wait(30 * time.Second); err != nil {
		t.Fatalf("mongotest exit: %v; stderr:\n%s", err, s.stderr)
	}
	if got := s.stderr.String(); got != "" {
		t.Errorf("stderr = %q, want nothing at warn level for a normal session", got)
	}
}

type item struct {
	Name  string `bson:"name"`
	Email string `bson:"email"`
	N     int    `bson:"n"`
}

func TestDriver(t *testing.T) {
	s := start(t)
	c := connect(t, s.URI)
	ctx := t.Context()
	coll := c.Database("drivertest").Collection("items")

	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("Ping: %v", err)
	}

	t.Run("unique index", func(t *testing.T) {
		name, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: "email", Value: 1}},
			Options: options.Index().SetUnique(true),
		})
		if err != nil {
			t.Fatalf("CreateOne(unique email): %v", err)
		}
		if name != "email_1" {
			t.Errorf("index name = %q, want %q", name, "email_1")
		}
	})

	t.Run("insert", func(t *testing.T) {
		docs := []any{
			item{Name: "b", Email: "b@example.com", N: 2},
			item{Name: "c", Email: "c@example.com", N: 3},
			item{Name: "a", Email: "a@example.com", N: 1},
		}
		res, err := coll.InsertMany(ctx, docs)
		if err != nil {
			t.Fatalf("InsertMany: %v", err)
		}
		if got := len(res.InsertedIDs); got != len(docs) {
			t.Errorf("InsertMany inserted %d, want %d", got, len(docs))
		}
	})

	t.Run("duplicate key", func(t *testing.T) {
		_, err := coll.InsertOne(ctx, item{Name: "dup", Email: "a@example.com"})
		if !mongo.IsDuplicateKeyError(err) {
			t.Errorf("InsertOne(duplicate email) = %v, want a duplicate key error", err)
		}
	})

	t.Run("find with sort", func(t *testing.T) {
		cur, err := coll.Find(ctx, bson.D{{Key: "n", Value: bson.D{{Key: "$gte", Value: 1}}}},
			options.Find().SetSort(bson.D{{Key: "n", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 0}}))
		if err != nil {
			t.Fatalf("Find: %v", err)
		}
		var got []item
		if err := cur.All(ctx, &got); err != nil {
			t.Fatalf("cursor All: %v", err)
		}
		want := []item{
			{Name: "c", Email: "c@example.com", N: 3},
			{Name: "b", Email: "b@example.com", N: 2},
			{Name: "a", Email: "a@example.com", N: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Find sorted by n desc (-want +got):\n%s", diff)
		}
	})

	t.Run("update one with filter", func(t *testing.T) {
		filter := bson.D{{Key: "name", Value: "b"}, {Key: "n", Value: 2}}
		res, err := coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 20}}}})
		if err != nil {
			t.Fatalf("UpdateOne: %v", err)
		}
		if res.MatchedCount != 1 || res.ModifiedCount != 1 {
			t.Errorf("UpdateOne matched %d, modified %d; want 1, 1", res.MatchedCount, res.ModifiedCount)
		}

		res, err = coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 30}}}})
		if err != nil {
			t.Fatalf("UpdateOne(stale filter): %v", err)
		}
		if res.MatchedCount != 0 {
			t.Errorf("UpdateOne(stale filter) matched %d, want 0", res.MatchedCount)
		}

		var got item
		if err := coll.FindOne(ctx, bson.D{{Key: "name", Value: "b"}}).Decode(&got); err != nil {
			t.Fatalf("FindOne: %v", err)
		}
		if got.N != 20 {
			t.Errorf("after UpdateOne, n = %d, want 20", got.N)
		}
	})
}

func TestDirPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()

	s := start(t, "--dir", dir)
	c := connect(t, s.URI)
	if _, err := c.Database("persist").Collection("c").InsertOne(ctx, item{Name: "kept"}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatalf("Disconnect: %v", err)
	}
	_ = s.stdin.Close()
	if err := s.wait(30 * time.Second); err != nil {
		t.Fatalf("first mongotest exit: %v; stderr:\n%s", err, s.stderr)
	}

	s2 := start(t, "--dir", dir)
	c2 := connect(t, s2.URI)
	var got item
	if err := c2.Database("persist").Collection("c").FindOne(ctx, bson.D{}).Decode(&got); err != nil {
		t.Fatalf("FindOne after restart: %v", err)
	}
	if got.Name != "kept" {
		t.Errorf("after restart, name = %q, want %q", got.Name, "kept")
	}
}

func TestExit(t *testing.T) {
	tests := []struct {
		name string
		stop func(*server) error
	}{
		{"stdin EOF", func(s *server) error { return s.stdin.Close() }},
		{"SIGTERM", func(s *server) error { return s.cmd.Process.Signal(syscall.SIGTERM) }},
		{"SIGINT", func(s *server) error { return s.cmd.Process.Signal(os.Interrupt) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// FerretDB gives open connections about 3 s to close before it
			// exits; run the cases side by side rather than wait 3 s each.
			t.Parallel()
			s := start(t)
			// An open client connection must not keep the server alive.
			c := connect(t, s.URI)
			if err := c.Ping(t.Context(), nil); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := tt.stop(s); err != nil {
				t.Fatal(err)
			}
			if err := s.wait(30 * time.Second); err != nil {
				t.Errorf("mongotest exit = %v, want clean exit; stderr:\n%s", err, s.stderr)
			}
		})
	}
}
