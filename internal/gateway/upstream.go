package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// upstream is one --upstream: the path prefix it serves and its handler.
type upstream struct {
	prefix  string
	name    string   // for metrics and logs: the upstream URL without path
	target  *url.URL // http(s) upstreams: scheme and host to proxy to
	handler http.Handler
}

// upstreams routes by the longest matching path prefix.
type upstreams struct {
	list []*upstream // longest prefix first
}

func (u *upstreams) match(path string) *upstream {
	for _, up := range u.list {
		// "/api" is served by the upstream of "/api/" too.
		if strings.HasPrefix(path, up.prefix) || (len(up.prefix) == len(path)+1 && strings.HasPrefix(up.prefix, path) && up.prefix[len(path)] == '/') {
			return up
		}
	}
	return nil
}

// parseUpstreams reads oauth2-proxy's upstream forms:
//
//	http://host:port            everything ("/") to host:port
//	http://host:port/api/       paths under /api/ to host:port, path kept
//	file:///var/www#/static/    files of /var/www under /static/
//	static://202                answer 202 with no upstream (auth-only)
func parseUpstreams(raw []string) (*upstreams, error) {
	u := &upstreams{}
	var errs []error
	seen := map[string]string{}
	for _, s := range raw {
		up, err := parseUpstream(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--upstream %q: %w", redactURL(s), err))
			continue
		}
		if prev, dup := seen[up.prefix]; dup {
			errs = append(errs, fmt.Errorf("--upstream %q: path %s is already served by %q", redactURL(s), up.prefix, redactURL(prev)))
			continue
		}
		seen[up.prefix] = s
		u.list = append(u.list, up)
	}
	if errs != nil {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(u.list, func(a, b *upstream) int { return len(b.prefix) - len(a.prefix) })
	return u, nil
}

func parseUpstream(s string) (*upstream, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a URL")
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("no host; want for example http://todo-api:8000")
		}
		if u.User != nil {
			return nil, fmt.Errorf("credentials in the URL are not supported")
		}
		prefix := u.Path
		if prefix == "" {
			prefix = "/"
		}
		target := &url.URL{Scheme: u.Scheme, Host: u.Host}
		return &upstream{prefix: prefix, name: target.String(), target: target}, nil
	case "file":
		dir := u.Host + u.Path // file://relative/dir and file:///absolute/dir, as oauth2-proxy reads them
		prefix := u.Fragment
		if prefix == "" {
			prefix = "/"
		}
		if dir == "" {
			return nil, fmt.Errorf("no directory; want file:///dir#/path/")
		}
		return &upstream{prefix: prefix, name: "file", handler: http.StripPrefix(strings.TrimSuffix(prefix, "/"), http.FileServer(http.Dir(dir)))}, nil
	case "static":
		code, err := strconv.Atoi(u.Host)
		if err != nil || code < 200 || code > 599 {
			return nil, fmt.Errorf("want static://CODE with a status from 200 to 599")
		}
		prefix := u.Path
		if prefix == "" {
			prefix = "/"
		}
		return &upstream{prefix: prefix, name: "static", handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			plain(w, code, "Authenticated")
		})}, nil
	}
	return nil, fmt.Errorf("scheme %q: want http, https, file or static", u.Scheme)
}

// newTransport is the pooled keep-alive transport shared by all
// upstreams. Environment proxies are ignored: upstreams are internal.
func newTransport(c Config) *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: c.UpstreamTimeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// redactURL hides a password in an upstream URL before it is printed.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}
