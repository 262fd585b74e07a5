// Package e2e holds the whole-system tests (the real cli.Main, a real
// browser, real nginx and Redis and a MongoDB-protocol server) and the
// harness they share. Nothing outside tests imports it.
package e2e

import (
	"context"
	"encoding/json"
	"gatehouse/internal/testenv"
	"io"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/cli"
)

// Process is a gatehouse command started in-process through cli.Main.
type Process struct {
	Stderr *testenv.LogBuffer
	t      testing.TB
	cancel context.CancelFunc
	done   chan int
	code   int
	exited bool
}

// Start runs cli.Main(args) with env as its whole environment and JSON logs
// expected (pass --log-format json). It returns once every message in ready
// has appeared in the log with an "addr" field; Addrs reports them.
func Start(t testing.TB, env map[string]string, ready []string, args ...string) (*Process, map[string]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Process{Stderr: &testenv.LogBuffer{}, t: t, cancel: cancel, done: make(chan int, 1)}
	getenv := func(k string) string { return env[k] }
	go func() { p.done <- cli.Main(ctx, args, getenv, strings.NewReader(""), io.Discard, p.Stderr) }()
	t.Cleanup(func() { p.Stop() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case code := <-p.done:
			p.exited, p.code = true, code
			t.Fatalf("gatehouse %s exited with %d; log:\n%s", args[0], code, p.Stderr)
		default:
		}
		if addrs := p.addrs(ready); addrs != nil {
			return p, addrs
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gatehouse %s: no %q lines in the log within 20s:\n%s", args[0], ready, p.Stderr)
	return nil, nil
}

func (p *Process) addrs(ready []string) map[string]string {
	found := map[string]string{}
	for line := range strings.SplitSeq(p.Stderr.String(), "\n") {
		var rec struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Addr != "" {
			found[rec.Msg] = rec.Addr
		}
	}
	for _, m := range ready {
		if found[m] == "" {
			return nil
		}
	}
	return found
}

// Stop cancels the process's context (as SIGTERM does) and returns its
// exit code.
func (p *Process) Stop() int {
	if p.exited {
		return p.code
	}
	p.cancel()
	select {
	case p.code = <-p.done:
		p.exited = true
	case <-time.After(30 * time.Second):
		p.t.Errorf("gatehouse did not stop within 30s; log:\n%s", p.Stderr)
		p.exited, p.code = true, -1
	}
	return p.code
}
