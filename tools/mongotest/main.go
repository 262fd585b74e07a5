// Command mongotest runs a MongoDB-protocol server for tests: FerretDB v1,
// embedded, on its SQLite backend. It lives in its own module so that
// FerretDB and its dependencies never enter gatehouse's dependency graph.
//
// Once the server accepts connections, mongotest prints exactly one line to
// stdout, the MongoDB URI (for example mongodb://127.0.0.1:40123/), and keeps
// running until SIGINT or SIGTERM, or, with --exit-on-stdin-eof, until its
// standard input reaches end of file. The last mode lets a test process start
// it through a pipe and take it down simply by dying: the kernel closes the
// pipe, and mongotest exits. Logs go to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run starts the server and blocks until ctx is done (or stdin reaches EOF,
// when asked to watch it). It returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mongotest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "TCP `address` to listen on; port 0 picks a free port")
	dir := fs.String("dir", "", "SQLite data `directory`; default: a fresh temporary directory removed on exit")
	stdinEOF := fs.Bool("exit-on-stdin-eof", false, "exit once standard input reaches end of file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mongotest: unexpected arguments: %q\n", fs.Args())
		return 2
	}

	logger := slog.New(quietResponses{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
	if err := serve(ctx, *addr, *dir, *stdinEOF, stdin, stdout, logger); err != nil {
		fmt.Fprintf(stderr, "mongotest: %v\n", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, addr, dir string, stdinEOF bool, stdin io.Reader, stdout io.Writer, logger *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	if dir == "" {
		tmp, err := os.MkdirTemp("", "mongotest-*")
		if err != nil {
			return fmt.Errorf("create data directory: %w", err)
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	sqliteURL, err := sqliteDirURL(dir)
	if err != nil {
		return err
	}

	// ferretdb.New listens synchronously, so with port 0 the kernel has
	// already picked the port and MongoDBURI reports it.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return fmt.Errorf("start ferretdb: %w", err)
	}

	if stdinEOF {
		// This goroutine ends at EOF; if the process exits first for a
		// signal, exiting ends it.
		go func() {
			_, _ = io.Copy(io.Discard, stdin)
			cancel()
		}()
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	if _, err := fmt.Fprintln(stdout, f.MongoDBURI()); err != nil {
		cancel()
		<-done
		return fmt.Errorf("print URI: %w", err)
	}

	if err := <-done; err != nil {
		return fmt.Errorf("run ferretdb: %w", err)
	}
	return nil
}

// sqliteDirURL turns a directory into the file: URL FerretDB's SQLite
// backend expects: absolute, and ending with a slash.
func sqliteDirURL(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs) + "/"}
	return u.String(), nil
}

// quietResponses drops FerretDB's dump of each failed command's response,
// which it logs at warn level as two multi-line records. The client gets the
// same error from its driver, and without this every mongo-driver Disconnect
// would log one: FerretDB v1 does not implement endSessions.
type quietResponses struct{ slog.Handler }

func (h quietResponses) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError &&
		(strings.HasPrefix(r.Message, "Response header:") || strings.HasPrefix(r.Message, "Response message:")) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietResponses) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietResponses{h.Handler.WithAttrs(attrs)}
}

func (h quietResponses) WithGroup(name string) slog.Handler {
	return quietResponses{h.Handler.WithGroup(name)}
}
