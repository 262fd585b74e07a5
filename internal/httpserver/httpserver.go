// Package httpserver runs every Gatehouse HTTP service the same way: the
// same timeouts, request ids, one access-log line per request, recovery
// from handler panics, and graceful shutdown when the context ends.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Config holds server settings; zero values mean the documented defaults.
type Config struct {
	// ReadHeaderTimeout bounds reading request headers (default 10s);
	// it defeats slow-loris clients.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request (default 30s).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (default 60s; 0 keeps the
	// default, negative disables it for streaming proxies).
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive idleness (default 120s).
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful drain after the context ends
	// (default 15s); connections still open then are closed.
	ShutdownTimeout time.Duration
	// MaxHeaderBytes bounds request header size (default 1 MiB).
	MaxHeaderBytes int
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.ReadHeaderTimeout, 10*time.Second)
	def(&c.ReadTimeout, 30*time.Second)
	def(&c.WriteTimeout, 60*time.Second)
	def(&c.IdleTimeout, 120*time.Second)
	def(&c.ShutdownTimeout, 15*time.Second)
	if c.WriteTimeout < 0 {
		c.WriteTimeout = 0
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 1 << 20
	}
	return c
}

// Serve serves h on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets requests in flight finish within ShutdownTimeout, and
// returns. h is wrapped with request ids, recovery and the access log.
// Serve returns nil after a clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, cfg Config) error {
	cfg = cfg.withDefaults()
	srv := &http.Server{
		Handler:           Wrap(h, logger),
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		logger.Warn("shutdown timed out; closing remaining connections", "timeout", cfg.ShutdownTimeout)
		err = srv.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), serr)
	}
	return err
}

// Listen opens a TCP listener on addr ("host:port"; port 0 picks a free one).
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}
