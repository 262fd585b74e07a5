// Command gatehouse puts a real login in front of microservices: see
// `gatehouse help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"gatehouse/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
