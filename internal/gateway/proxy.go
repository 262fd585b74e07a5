package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/session"
)

type sessionKey struct{}

// proxy answers every path that is not the gateway's own: it checks the
// session in-process and forwards to the upstream with the longest
// matching prefix.
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request) {
	up := g.upstreams.match(r.URL.Path)
	if up == nil {
		g.notFound(w, r)
		return
	}
	if r.Method == http.MethodOptions && g.cfg.SkipAuthPreflight {
		up.handler.ServeHTTP(w, r)
		return
	}
	s := g.requireSession(w, r, func() { g.unauthenticated(w, r) })
	if s == nil {
		return
	}
	if err := g.cors.checkCSRF(r); err != nil {
		g.metrics.decision("csrf")
		g.fail(w, r, http.StatusForbidden, "Cross-origin requests from this origin are not allowed.", err)
		return
	}
	g.metrics.decision("allowed")
	up.handler.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
}

// unauthenticated answers a request without a session. A browser
// navigation is sent to sign in and comes back to the page it asked for
// (a 302 browsers follow, unlike oauth2-proxy's 403 page: #334); an API
// or fetch caller gets a 401 JSON problem naming the sign-in URL it can
// send the user to (oauth2-proxy answers {} or a 302: #1522).
func (g *Gateway) unauthenticated(w http.ResponseWriter, r *http.Request) {
	scheme, host := g.origin(r)
	back := r.URL.RequestURI()
	if isNavigation(r) {
		next := "/oauth2/sign_in?rd="
		if g.cfg.SkipProviderButton {
			next = "/oauth2/start?rd="
		}
		noStore(w)
		http.Redirect(w, r, next+url.QueryEscape(back), http.StatusFound)
		return
	}
	g.unauthorizedJSON(w, r, g.startURL(r, scheme+"://"+host+back))
}

// isNavigation tells a browser loading a page from a script's request.
func isNavigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "navigate":
		return true
	case "cors", "no-cors", "same-origin", "websocket":
		return false
	}
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// reverseProxy builds the proxy to one http(s) upstream.
func (g *Gateway) reverseProxy(up *upstream, transport http.RoundTripper) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(up.target)
			if !g.cfg.UseUpstreamHost {
				pr.Out.Host = pr.In.Host
			}
			g.forwardHeaders(pr)
			if s, ok := pr.In.Context().Value(sessionKey{}).(*session.Session); ok {
				g.identityHeaders(pr.Out.Header, s)
			}
		},
		Transport:     &timedTransport{next: transport, upstream: up.name, m: g.metrics},
		FlushInterval: g.cfg.UpstreamFlushInterval,
		BufferPool:    g.buffers,
		ModifyResponse: func(res *http.Response) error {
			g.upstreamResponse(res.Header)
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status, msg := http.StatusBadGateway, "The service behind the gateway is not answering."
			var ne net.Error
			if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
				status, msg = http.StatusGatewayTimeout, "The service behind the gateway took too long to answer."
			}
			if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
				status = 499 // the client went away; nobody reads this answer
			}
			g.fail(w, r, status, msg, fmt.Errorf("upstream %s: %w", up.name, err))
		},
	}
}

// forwardHeaders sets X-Forwarded-For, -Proto, -Host and X-Real-IP. From a
// trusted proxy they extend what it sent; from anyone else they are
// replaced, never appended to.
func (g *Gateway) forwardHeaders(pr *httputil.ProxyRequest) {
	in, out := pr.In, pr.Out
	stripIdentity(out.Header, g.cfg.PassAuthorizationHeader)
	stripCookies(out.Header, g.cfg.Cookie)
	// The peer, its trust and its X-Forwarded-For are worked out once.
	addr, ok := peerAddr(in)
	trusted := ok && g.trusted.contains(addr)
	var hops []string
	if trusted {
		hops = forwardedFor(in.Header)
	}
	scheme, host := originFor(in, trusted)
	client := g.trusted.clientIPFrom(addr, ok, trusted, hops, in.Header.Get("X-Real-Ip"))
	peer := ""
	if ok {
		peer = addr.String()
	}
	if len(hops) > 0 {
		out.Header.Set("X-Forwarded-For", strings.Join(hops, ", ")+", "+peer)
	} else {
		out.Header.Set("X-Forwarded-For", peer)
	}
	out.Header.Set("X-Forwarded-Proto", scheme)
	out.Header.Set("X-Forwarded-Host", host)
	out.Header.Set("X-Real-Ip", client)
	if id := requestID(in); id != "" {
		out.Header.Set("X-Request-Id", id)
	}
}

// identityHeaders adds the signed-in identity for the upstream.
func (g *Gateway) identityHeaders(h http.Header, s *session.Session) {
	if !g.cfg.SkipUserHeaders {
		writeIdentity(h, forwardedNames, s)
	}
	if g.cfg.PassAccessToken && s.AccessToken != "" {
		h.Set("X-Forwarded-Access-Token", s.AccessToken)
	}
	if g.cfg.PassAuthorizationHeader && s.IDToken != "" {
		h.Set("Authorization", "Bearer "+s.IDToken)
	}
}

// upstreamResponse removes what an upstream must not decide for the
// gateway: CORS (the gateway answers for its allowed origins) and cookies
// that would overwrite the gateway's own.
func (g *Gateway) upstreamResponse(h http.Header) {
	for k := range h {
		if strings.HasPrefix(k, "Access-Control-") {
			delete(h, k)
		}
	}
	if cookies := h.Values("Set-Cookie"); len(cookies) > 0 {
		keep := cookies[:0:0]
		for _, c := range cookies {
			name, _, _ := strings.Cut(c, "=")
			if !g.cfg.Cookie.IsSessionCookie(strings.TrimSpace(name)) {
				keep = append(keep, c)
			}
		}
		h["Set-Cookie"] = keep
		if len(keep) == 0 {
			delete(h, "Set-Cookie")
		}
	}
}

// bufferPool reuses the 32 KiB copy buffers of ReverseProxy, which would
// otherwise allocate one per proxied response.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) Get() []byte { return *b.p.Get().(*[]byte) }

// Put keeps the buffer; the pointer it stores costs one small allocation,
// against 32 KiB for a new buffer.
func (b *bufferPool) Put(s []byte) { b.p.Put(&s) }

// timedTransport measures each upstream round trip, to the response
// headers, failures included, for gatehouse_gateway_upstream_duration_seconds.
type timedTransport struct {
	next     http.RoundTripper
	upstream string
	m        *Metrics
}

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	res, err := t.next.RoundTrip(r)
	code := "error"
	if err == nil {
		code = strconv.Itoa(res.StatusCode)
	}
	t.m.upstreamL.WithLabelValues(t.upstream, code).Observe(time.Since(start).Seconds())
	return res, err
}
