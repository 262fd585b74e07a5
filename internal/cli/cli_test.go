package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gatehouse/internal/cli"
	"gatehouse/internal/e2e"
	"gatehouse/internal/testenv"
)

// start runs cli.Main and waits for the log line msg with the address.
func start(t *testing.T, env map[string]string, msg string, args ...string) *running {
	t.Helper()
	p, addrs := e2e.Start(t, env, []string{msg}, args...)
	return &running{addr: addrs[msg], stderr: p.Stderr, stop: p.Stop}
}

type running struct {
	addr   string
	stderr *testenv.LogBuffer
	stop   func() int
}

func TestAPIRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	args := []string{"api", "--addr", "127.0.0.1:0", "--data-dir", dir, "--log-format", "json"}
	a := start(t, nil, "api listening", args...)
	res, err := http.Post("http://"+a.addr+"/", "application/json", strings.NewReader(`{"title":"survive a restart"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("POST = %d", res.StatusCode)
	}
	if code := a.stop(); code != 0 {
		t.Fatalf("exit code after SIGTERM-like stop = %d, want 0; log:\n%s", code, a.stderr)
	}
	if !strings.Contains(a.stderr.String(), "no authentication of its own") {
		t.Errorf("start-up log does not warn that the API is unauthenticated")
	}

	b := start(t, nil, "api listening", args...)
	defer b.stop()
	res, err = http.Get("http://" + b.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var list []struct{ Title string }
	json.NewDecoder(res.Body).Decode(&list)
	if len(list) != 1 || list[0].Title != "survive a restart" {
		t.Errorf("after restart GET / = %+v, want the todo", list)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "api.toml")
	os.WriteFile(file, []byte("db_name = \"fromfile\"\nlog_level = \"debug\"\naddr = \"127.0.0.1:1\"\n"), 0o600)
	// addr: flag beats env beats file; log level from the file; data dir
	// from the env.
	env := map[string]string{
		"GATEHOUSE_API_ADDR":     "127.0.0.1:2",
		"GATEHOUSE_API_DATA_DIR": filepath.Join(dir, "envdata"),
		"GATEHOUSE_API_CONFIG":   file,
	}
	a := start(t, env, "api listening", "api", "--addr", "127.0.0.1:0", "--log-format", "json")
	defer a.stop()
	log := a.stderr.String()
	if !strings.Contains(log, filepath.Join(dir, "envdata", "todos.db")) {
		t.Errorf("data dir from the environment not used; log:\n%s", log)
	}
	if !strings.Contains(log, `"level":"DEBUG"`) {
		t.Errorf("log level from the file not used (no debug lines)")
	}
}

func TestInvalidConfigListsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "api.toml")
	os.WriteFile(file, []byte("adr = \"typo\"\n"), 0o600)
	var stderr bytes.Buffer
	env := map[string]string{"MONGODB_URI": "http://user:hunter2@db", "GATEHOUSE_API_SHUTDOWN_TIMEOUT": "soon"}
	code := cli.Main(t.Context(), []string{"api", "--config", file, "--addr", "nope", "--log-level", "loud"},
		func(k string) string { return env[k] }, nil, io.Discard, &stderr)
	if code != 2 {
		t.Errorf("exit code = %d, want 2", code)
	}
	out := stderr.String()
	for _, want := range []string{`unknown setting "adr"`, "GATEHOUSE_API_SHUTDOWN_TIMEOUT"} {
		if !strings.Contains(out, want) {
			t.Errorf("error output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("error output leaks the MongoDB password:\n%s", out)
	}
	// Once the environment and file are fixed, the remaining problems are
	// all listed together.
	stderr.Reset()
	code = cli.Main(t.Context(), []string{"api", "--addr", "nope", "--log-level", "loud", "--mongodb-uri", "http://user:hunter2@db"},
		func(string) string { return "" }, nil, io.Discard, &stderr)
	out = stderr.String()
	for _, want := range []string{"--addr", "--log-level", "--mongodb-uri"} {
		if !strings.Contains(out, want) {
			t.Errorf("exit %d; error output lacks %q:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("error output leaks the MongoDB password:\n%s", out)
	}
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "api"},
		{[]string{"help", "api"}, 0, "ATLAS_URI"},
		{[]string{"api", "--help"}, 0, "--data-dir"},
		{[]string{"version"}, 0, "gatehouse"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{nil, 2, "Usage"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, "_"), func(t *testing.T) {
			var out bytes.Buffer
			code := cli.Main(t.Context(), tt.args, func(string) string { return "" }, nil, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.want) {
				t.Errorf("Main(%q) = %d, output %q; want %d and %q", tt.args, code, out.String(), tt.code, tt.want)
			}
		})
	}
}
