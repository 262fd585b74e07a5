// Package cli is the gatehouse command: it dispatches subcommands, binds
// their settings from flags, environment and files, and wires and runs the
// services. It is the only package that reads flags, environment or
// configuration files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what a subcommand may touch of the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func commands() []command {
	return []command{
		{"up", "run everything in one process: web client, gateway, API, OpenID provider", runUp},
		{"api", "run the Todo API service", runAPI},
		{"gateway", "run the identity-aware gateway (oauth2-proxy compatible)", runGateway},
		{"idp", "run the development OpenID provider", runIDP},
		{"web", "run the web client", runWeb},
		{"secret", "print a fresh cookie secret for --cookie-secret", runSecret},
		{"version", "print the version", runVersion},
		{"help", "show help for gatehouse or a subcommand", nil}, // handled in Main
	}
}

// Main runs gatehouse with args (without the program name) and returns the
// process exit code: 0 success, 1 failure at run time, 2 bad usage or
// configuration. It returns when ctx ends (on SIGINT/SIGTERM in main) after
// shutting the services down.
func Main(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] != "help" {
			return Main(ctx, []string{rest[0], "--help"}, getenv, stdin, stdout, stderr)
		}
		usage(stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name && c.run != nil {
			return c.run(ctx, e, rest)
		}
	}
	fmt.Fprintf(stderr, "gatehouse: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Gatehouse puts a real login in front of microservices.\n\nUsage:\n  gatehouse <command> [--setting=value ...]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'gatehouse help <command>' for a command's settings.\n")
}

func runVersion(_ context.Context, e *env, _ []string) int {
	fmt.Fprintf(e.stdout, "gatehouse %s\n", version())
	return 0
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v + " " + bi.GoVersion
}

// parseOrExit parses o and turns a failure into an exit code: 0 after
// --help, 2 for bad settings, each problem on its own line.
func parseOrExit(o *options, args []string, e *env, synopsis string) (int, bool) {
	err := o.parse(args, e.getenv)
	if errors.Is(err, errHelp) {
		o.usage(e.stdout, synopsis)
		return 0, false
	}
	if err != nil {
		reportConfig(e.stderr, o.fs.Name(), err)
		return 2, false
	}
	return 0, true
}

// reportConfig prints every configuration problem, one per line.
func reportConfig(w io.Writer, cmd string, err error) {
	fmt.Fprintf(w, "gatehouse %s: invalid configuration:\n", cmd)
	for _, e := range flatten(err) {
		fmt.Fprintf(w, "  - %v\n", e)
	}
}

// flatten lists the leaves of errors joined with errors.Join.
func flatten(err error) []error {
	multi, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range multi.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}
