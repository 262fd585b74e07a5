package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/todo"
	"gatehouse/internal/todo/mongostore"
	"gatehouse/internal/todo/sqlitestore"
	"gatehouse/internal/todo/todoapi"
)

// apiConfig is the settings of `gatehouse api`.
type apiConfig struct {
	addr            string
	dataDir         string
	mongoURI        string
	dbName          string
	shutdownTimeout time.Duration
	log             logConfig
}

func (c *apiConfig) options() *options {
	o := newOptions("api", "GATEHOUSE_API_")
	o.fs.StringVar(&c.addr, "addr", "127.0.0.1:8000", "listen on this `host:port` (port 0 picks a free port)")
	o.fs.StringVar(&c.dataDir, "data-dir", "data", "`directory` of the embedded SQLite store (created if missing)")
	o.fs.StringVar(&c.mongoURI, "mongodb-uri", "", "use MongoDB at this `URI` instead of the embedded store")
	o.fs.StringVar(&c.dbName, "db-name", "todoapi", "MongoDB database `name`")
	o.fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 15*time.Second, "how long to let requests in flight finish on SIGINT/SIGTERM")
	c.log.register(o)
	o.alias("mongodb-uri", "MONGODB_URI", "ATLAS_URI") // the tutorial's names
	o.alias("db-name", "DB_NAME")
	o.secret("mongodb-uri")
	return o
}

// validate reports every problem with the merged settings.
func (c *apiConfig) validate() error {
	var errs []error
	if _, _, err := splitHostPort(c.addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr %q: %w; for example --addr=127.0.0.1:8000", c.addr, err))
	}
	if c.mongoURI == "" && c.dataDir == "" {
		errs = append(errs, errors.New("--data-dir is empty: name a directory for the embedded store, or set --mongodb-uri"))
	}
	if c.mongoURI != "" {
		if u, err := url.Parse(c.mongoURI); err != nil || (u.Scheme != "mongodb" && u.Scheme != "mongodb+srv") {
			errs = append(errs, errors.New("--mongodb-uri (MONGODB_URI / ATLAS_URI) must be a mongodb:// or mongodb+srv:// URI"))
		}
		if c.dbName == "" || strings.ContainsAny(c.dbName, `/\. "$`) {
			errs = append(errs, fmt.Errorf("--db-name (DB_NAME) %q: want a MongoDB database name without / \\ . space \" or $", c.dbName))
		}
	}
	if c.shutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %v: must be positive, for example 15s", c.shutdownTimeout))
	}
	return errors.Join(errs...)
}

const apiSynopsis = `Usage: gatehouse api [--setting=value ...]

Runs the Todo REST API: the tutorial's endpoints at the root of --addr,
interactive docs at /docs, health at /healthz and /readyz. Data is kept in
an embedded SQLite file under --data-dir, or in MongoDB with --mongodb-uri.
The API has no login of its own: run it behind 'gatehouse gateway' (or
nginx with oauth2-proxy), reachable only through it.`

func runAPI(ctx context.Context, e *env, args []string) int {
	var cfg apiConfig
	o := cfg.options()
	if code, ok := parseOrExit(o, args, e, apiSynopsis); !ok {
		return code
	}
	logger, err := cfg.log.logger(e.stderr)
	if err == nil {
		err = cfg.validate()
	} else {
		err = errors.Join(err, cfg.validate())
	}
	if err != nil {
		reportConfig(e.stderr, "api", err)
		return 2
	}
	logger.Debug("settings", "addr", cfg.addr, "data_dir", cfg.dataDir, "mongodb", cfg.mongoURI != "",
		"db_name", cfg.dbName, "shutdown_timeout", cfg.shutdownTimeout)
	if err := serveAPI(ctx, cfg, logger); err != nil {
		logger.Error("api stopped", "error", err)
		return 1
	}
	return 0
}

func serveAPI(ctx context.Context, cfg apiConfig, logger *slog.Logger) error {
	store, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := httpserver.Listen(ctx, cfg.addr)
	if err != nil {
		return err
	}
	api := todoapi.New(todoapi.Config{
		Service: todo.NewService(store, nil),
		Store:   store,
		Logger:  logger,
	})
	logger.Warn("the Todo API has no authentication of its own: every caller is the same anonymous owner; " +
		"run it behind gatehouse gateway (or nginx + oauth2-proxy) and keep its address unreachable otherwise")
	logger.Info("api listening", "addr", ln.Addr().String(), "url", "http://"+ln.Addr().String()+"/", "docs", "http://"+ln.Addr().String()+"/docs")
	err = httpserver.Serve(ctx, ln, api, logger, httpserver.Config{ShutdownTimeout: cfg.shutdownTimeout})
	logger.Info("api stopped")
	return err
}

func openStore(ctx context.Context, cfg apiConfig, logger *slog.Logger) (todo.Store, error) {
	if cfg.mongoURI != "" {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s, err := mongostore.Open(octx, mongostore.Config{URI: cfg.mongoURI, Database: cfg.dbName})
		if err != nil {
			return nil, fmt.Errorf("open MongoDB store (--mongodb-uri): %w", err)
		}
		logger.Info("store: MongoDB", "database", cfg.dbName)
		return s, nil
	}
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create --data-dir: %w", err)
	}
	path := filepath.Join(cfg.dataDir, "todos.db")
	s, err := sqlitestore.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	logger.Info("store: embedded SQLite", "path", path)
	return s, nil
}
