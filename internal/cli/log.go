package cli

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
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
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: redact}
	switch strings.ToLower(c.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.format)
}

// sensitiveKeys are log attribute names whose values are never written.
var sensitiveKeys = map[string]bool{
	"token": true, "id_token": true, "access_token": true, "refresh_token": true,
	"code": true, "code_verifier": true, "state": true, "nonce": true,
	"cookie": true, "set-cookie": true, "authorization": true,
	"secret": true, "client_secret": true, "cookie_secret": true, "password": true,
}

// redact is the logger's last line of defence: whatever a package logs by
// mistake, values under a sensitive name are written as [redacted], and a
// JWT inside any string or error is replaced by [redacted]. Packages still
// must not log secrets; this makes a slip harmless.
func redact(_ []string, a slog.Attr) slog.Attr {
	if sensitiveKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, "[redacted]")
	}
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "eyJ") {
			return slog.String(a.Key, jwtPattern.ReplaceAllString(s, "[redacted]"))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if s := err.Error(); strings.Contains(s, "eyJ") && jwtPattern.MatchString(s) {
				return slog.String(a.Key, jwtPattern.ReplaceAllString(s, "[redacted]"))
			}
		}
	}
	return a
}

// jwtPattern matches a compact JWS or JWE: base64url JSON header ("eyJ"),
// then at least two more dot-separated base64url parts.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_=-]*(\.[A-Za-z0-9_=-]*){2,}`)

// looksLikeJWT reports whether s holds a JWT anywhere.
func looksLikeJWT(s string) bool { return jwtPattern.MatchString(s) }
