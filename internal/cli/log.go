package cli

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// logConfig is shared by every service.
type logConfig struct {
	level  string
	format string
}

func (c *logConfig) register(o *options) {
	o.fs.StringVar(&c.level, "log-level", "info", "log `level`: debug, info, warn or error")
	o.fs.StringVar(&c.format, "log-format", "text", "log `format`: text or json")
}

// logger builds the one *slog.Logger of the process.
func (c *logConfig) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(c.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.format)
}
