package testenv

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeLauncherEnv makes the test binary act as a launcher, so startLauncher
// is tested against a real child process without FerretDB.
const fakeLauncherEnv = "TESTENV_FAKE_LAUNCHER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeLauncherEnv); mode != "" {
		os.Exit(fakeLauncher(mode))
	}
	os.Exit(m.Run())
}

func fakeLauncher(mode string) int {
	switch mode {
	case "ok":
		fmt.Println("mongodb://127.0.0.1:27017/")
		_, _ = io.Copy(io.Discard, os.Stdin) // like --exit-on-stdin-eof
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "fake launcher: cannot open data directory")
		return 3
	case "garbage":
		fmt.Println("hello")
		_, _ = io.Copy(io.Discard, os.Stdin)
		return 0
	case "hang":
		time.Sleep(time.Minute)
		return 0
	}
	return 2
}

func TestRequired(t *testing.T) {
	tests := []struct {
		name      string
		env       string
		component string
		want      bool
	}{
		{"unset", "", "mongo", false},
		{"listed alone", "mongo", "mongo", true},
		{"listed among others", "browser,nginx,redis,mongo", "mongo", true},
		{"not listed", "browser,nginx,redis", "mongo", false},
		{"all", "all", "mongo", true},
		{"all among others", "nginx,all", "redis", true},
		{"spaces around entries", " nginx , mongo ", "mongo", true},
		{"case-insensitive", "Mongo", "mongo", true},
		{"ALL", "ALL", "browser", true},
		{"prefix is not a match", "mongodb", "mongo", false},
		{"substring is not a match", "mon", "mongo", false},
		{"empty entries", ",,", "mongo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := required(tt.env, tt.component); got != tt.want {
				t.Errorf("required(%q, %q) = %v, want %v", tt.env, tt.component, got, tt.want)
			}
		})
	}
}

var dbNameRE = regexp.MustCompile(`^[a-z0-9_]{1,60}$`)

// named is a testing.TB whose Name is chosen by the test.
type named struct {
	testing.TB
	name string
}

func (n named) Name() string { return n.name }

func TestDBName(t *testing.T) {
	tests := []struct {
		name       string
		testName   string
		wantPrefix string
	}{
		{"plain", "TestStore", "teststore_"},
		{"subtest", "TestStore/Get missing", "teststore_get_missing_"},
		{"symbols", "TestX/#00/café-π.ü", "testx_00_caf_"},
		{"only symbols", "/#-", "test_"},
		{"long", "Test" + strings.Repeat("VeryLongName/", 20), "testverylongname_verylongname_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DBName(named{t, tt.testName})
			if !dbNameRE.MatchString(got) {
				t.Errorf("DBName(%q) = %q, want 1-60 characters of [a-z0-9_]", tt.testName, got)
			}
			if !strings.HasPrefix(got, tt.wantPrefix) {
				t.Errorf("DBName(%q) = %q, want prefix %q", tt.testName, got, tt.wantPrefix)
			}
			if again := DBName(named{t, tt.testName}); again == got {
				t.Errorf("DBName(%q) twice = %q both times, want different names", tt.testName, got)
			}
		})
	}
}

func TestModulePath(t *testing.T) {
	tests := []struct {
		gomod string
		want  string
	}{
		{"module gatehouse\n\ngo 1.26\n", "gatehouse"},
		{"// comment\nmodule \"gatehouse\"\n", "gatehouse"},
		{"module gatehouse/tools/mongotest\n", "gatehouse/tools/mongotest"},
		{"go 1.26\n", ""},
	}
	for _, tt := range tests {
		if got := modulePath([]byte(tt.gomod)); got != tt.want {
			t.Errorf("modulePath(%q) = %q, want %q", tt.gomod, got, tt.want)
		}
	}
}

func TestRepoRoot(t *testing.T) {
	root := t.TempDir()
	nested := filepath.Join(root, "tools", "mongotest")
	deep := filepath.Join(nested, "sub", "dir")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, data string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "go.mod"), "module gatehouse\n\ngo 1.26\n")
	write(filepath.Join(nested, "go.mod"), "module gatehouse/tools/mongotest\n")

	for _, dir := range []string{root, nested, deep} {
		got, err := repoRoot(dir)
		if err != nil || got != root {
			t.Errorf("repoRoot(%q) = %q, %v; want %q", dir, got, err, root)
		}
	}
	if got, err := repoRoot(filepath.Dir(root)); err == nil {
		t.Errorf("repoRoot(%q) = %q, want an error", filepath.Dir(root), got)
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{limit: 8}
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got, want := b.String(), "defghijk"; got != want {
		t.Errorf("tail = %q, want %q", got, want)
	}
}

func TestStartLauncher(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T, mode string, timeout time.Duration) (*launcher, error) {
		t.Setenv(fakeLauncherEnv, mode)
		return startLauncher(self, timeout)
	}

	t.Run("ok", func(t *testing.T) {
		l, err := start(t, "ok", 10*time.Second)
		if err != nil {
			t.Fatalf("startLauncher: %v", err)
		}
		if want := "mongodb://127.0.0.1:27017/"; l.uri != want {
			t.Errorf("uri = %q, want %q", l.uri, want)
		}
		// Closing stdin is what takes the launcher down when the test
		// process dies.
		if err := l.stdin.Close(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- l.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("launcher exit after stdin EOF: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = l.cmd.Process.Kill()
			t.Errorf("launcher still running 10s after stdin EOF")
		}
	})

	tests := []struct {
		mode    string
		timeout time.Duration
		want    []string // substrings of the error
	}{
		{"fail", 10 * time.Second, []string{"exited before printing its URI", "exit status 3", "cannot open data directory"}},
		{"garbage", 10 * time.Second, []string{`printed "hello"`}},
		{"hang", 200 * time.Millisecond, []string{"printed no URI within 200ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			l, err := start(t, tt.mode, tt.timeout)
			if err == nil {
				_ = l.stdin.Close()
				t.Fatalf("startLauncher(%s) = %q, want an error", tt.mode, l.uri)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("startLauncher(%s) error = %q, want it to contain %q", tt.mode, err, w)
				}
			}
		})
	}

	t.Run("missing binary", func(t *testing.T) {
		if _, err := startLauncher(filepath.Join(t.TempDir(), "nope"), time.Second); err == nil {
			t.Errorf("startLauncher(missing) = nil error, want one")
		}
	})
}

func TestMongoURIFromEnv(t *testing.T) {
	const want = "mongodb://db.example:27017/"
	t.Setenv(MongoURIEnv, want)
	if got := MongoURI(t); got != want {
		t.Errorf("MongoURI with %s set = %q, want %q", MongoURIEnv, got, want)
	}
}

// TestMongoURI starts the real launcher (or skips with the build hint) and
// checks that something accepts connections at the URI.
func TestMongoURI(t *testing.T) {
	uri := MongoURI(t)
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "mongodb" || u.Host == "" {
		t.Fatalf("MongoURI = %q, want a mongodb://host:port/ URI (parse error: %v)", uri, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s from MongoURI: %v", u.Host, err)
	}
	conn.Close()
	if again := MongoURI(t); again != uri {
		t.Errorf("second MongoURI = %q, want the same server %q", again, uri)
	}
}
