// Package testenv gives tests the real components they need, or decides for
// them what to do when a component is missing: skip with an install hint in
// an ordinary run, fail in a run that asked for the component, so that a green
// CI never means "skipped".
//
// It is for tests only and uses the standard library only: in particular it
// starts the MongoDB-protocol launcher (tools/mongotest, FerretDB) as a
// separate program, so FerretDB stays out of gatehouse's dependency graph.
package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables read by this package.
const (
	// RequireEnv lists the components a run must have, comma-separated
	// (for example "browser,nginx,redis,mongo"), or "all".
	RequireEnv = "GATEHOUSE_TEST_REQUIRE"
	// MongoURIEnv names a MongoDB-protocol server to use instead of starting
	// the launcher.
	MongoURIEnv = "GATEHOUSE_TEST_MONGODB_URI"
	// MongotestBinEnv names the launcher executable (a path, or a name on
	// PATH). Without it, bin/mongotest at the repository root is used.
	MongotestBinEnv = "GATEHOUSE_MONGOTEST_BIN"
)

const (
	mongoHint = "build the FerretDB launcher: cd tools/mongotest && go build -o ../../bin/mongotest . " +
		"(or set " + MongoURIEnv + ")"
	launcherTimeout = 60 * time.Second
)

// Require reports that component (for example "mongo") is not available, and
// ends the test: with t.Fatalf when RequireEnv lists component (or is "all"),
// otherwise with t.Skipf. hint says how to make the component available.
func Require(t testing.TB, component, hint string) {
	t.Helper()
	if required(os.Getenv(RequireEnv), component) {
		t.Fatalf("%s is required in this run (%s=%q) but not available: %s",
			component, RequireEnv, os.Getenv(RequireEnv), hint)
	}
	t.Skipf("%s not available: %s", component, hint)
}

// required reports whether envValue, a RequireEnv value, asks for component.
// Entries are comma-separated, trimmed and compared case-insensitively;
// "all" asks for everything.
func required(envValue, component string) bool {
	for entry := range strings.SplitSeq(envValue, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		if strings.EqualFold(entry, "all") || strings.EqualFold(entry, component) {
			return true
		}
	}
	return false
}

// The launcher is started at most once per test process and shared by every
// test in it; DBName keeps their data apart. It exits when this process does:
// it runs with --exit-on-stdin-eof, and the kernel closes its stdin pipe.
var (
	mongoOnce     sync.Once
	mongoLauncher *launcher
	mongoErr      error
)

// MongoURI returns the URI of a MongoDB-protocol server for tests: the one
// named by MongoURIEnv if set; else the launcher's (MongotestBinEnv, or
// bin/mongotest at the repository root), started once per test process. When
// there is neither, it calls Require(t, "mongo", …).
func MongoURI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv(MongoURIEnv); uri != "" {
		return uri
	}
	bin, why := mongotestBin()
	if bin == "" {
		Require(t, "mongo", why+"; "+mongoHint)
		return ""
	}
	mongoOnce.Do(func() {
		mongoLauncher, mongoErr = startLauncher(bin, launcherTimeout)
	})
	if mongoErr != nil {
		t.Fatalf("start MongoDB-protocol launcher: %v", mongoErr)
	}
	return mongoLauncher.uri
}

// mongotestBin finds the launcher. When there is none, it returns "" and
// why not.
func mongotestBin() (bin, why string) {
	if name := os.Getenv(MongotestBinEnv); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Sprintf("%s=%q is not an executable: %v", MongotestBinEnv, name, err)
		}
		return path, ""
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Sprintf("working directory: %v", err)
	}
	root, err := repoRoot(wd)
	if err != nil {
		return "", err.Error()
	}
	path := filepath.Join(root, "bin", "mongotest")
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Sprintf("no executable %s", path)
	}
	return path, ""
}

// repoRoot walks up from dir to the directory whose go.mod declares
// "module gatehouse" (skipping nested modules such as tools/mongotest).
func repoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(data) == "gatehouse" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod declaring module gatehouse above the working directory")
		}
		dir = parent
	}
}

// modulePath returns the module path a go.mod file declares, or "".
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		fields := strings.Fields(line)
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], "\"`")
		}
	}
	return ""
}

// launcher is a running tools/mongotest process.
type launcher struct {
	uri    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser // held open for the life of the process: closing it stops the launcher
	stderr *tailBuffer
}

// startLauncher starts bin with --exit-on-stdin-eof and waits up to timeout
// for the URI line it prints once it accepts connections.
func startLauncher(bin string, timeout time.Duration) (*launcher, error) {
	l := &launcher{cmd: exec.Command(bin, "--exit-on-stdin-eof"), stderr: &tailBuffer{limit: 4096}}
	l.cmd.Stderr = l.stderr
	var err error
	if l.stdin, err = l.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	stdout, err := l.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	if err := l.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}

	// This goroutine reads the URI line, then drains stdout so the launcher
	// can never block on it; it ends when the launcher exits.
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- strings.TrimSpace(sc.Text())
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case uri, ok := <-lines:
		if ok && strings.HasPrefix(uri, "mongodb://") {
			l.uri = uri
			return l, nil
		}
		_ = l.cmd.Process.Kill()
		werr := l.cmd.Wait() // also waits for stderr to be copied
		if ok {
			return nil, fmt.Errorf("%s printed %q, want a mongodb:// URI; stderr tail:\n%s", bin, uri, l.stderr)
		}
		return nil, fmt.Errorf("%s exited before printing its URI (%v); stderr tail:\n%s", bin, werr, l.stderr)
	case <-timer.C:
		_ = l.cmd.Process.Kill()
		_ = l.cmd.Wait()
		return nil, fmt.Errorf("%s printed no URI within %v; stderr tail:\n%s", bin, timeout, l.stderr)
	}
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.limit; over > 0 {
		b.buf = bytes.Clone(b.buf[over:])
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

const maxDBName = 60

// DBName returns a database name unique to this test run, so tests sharing
// one server never see each other's data: t.Name() lowercased, with every
// character outside [a-z0-9] replaced by '_', then '_' and 8 random hex
// digits; at most 60 characters, all in [a-z0-9_].
func DBName(t testing.TB) string {
	t.Helper()
	suffix := fmt.Sprintf("_%08x", rand.Uint32())
	return sanitizeName(t.Name(), maxDBName-len(suffix)) + suffix
}

// sanitizeName maps name onto [a-z0-9_], folding runs of other characters
// into one '_' and trimming '_' at the ends, and cuts it to at most limit
// bytes.
func sanitizeName(name string, limit int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > limit {
		s = s[:limit]
	}
	s = strings.Trim(s, "_")
	if s == "" {
		s = "test"
	}
	return s
}
