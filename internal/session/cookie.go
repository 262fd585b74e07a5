package session

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cookie defaults, oauth2-proxy's except where noted on CookieConfig.
const (
	DefaultCookieName   = "_oauth2_proxy"
	DefaultCookiePath   = "/"
	DefaultCookieExpire = 168 * time.Hour

	// MaxCookieSize is the longest Set-Cookie value (name, value and
	// attributes, as http.Cookie.String renders them) that Split emits.
	// Browsers keep at least 4096 bytes per cookie; oauth2-proxy keeps 96
	// bytes of leeway, and so do we.
	MaxCookieSize = 4000

	// MaxCookieParts is the most NAME_n cookies Join accepts and Save
	// writes. 16 parts hold ~62 KB, more than the headers most servers
	// and proxies accept (nginx: 4 × 8 KB by default); a session that needs
	// more belongs in a server-side store.
	MaxCookieParts = 16

	csrfSuffix = "_csrf"
)

// CookieConfig is where and how the session cookie is set. The zero value
// is the default: cookie "_oauth2_proxy" for the request's host, path "/",
// expiring after 168 hours, Secure, HttpOnly, SameSite=Lax.
type CookieConfig struct {
	// Name of the cookie (--cookie-name). Default DefaultCookieName.
	// Split sessions use NAME_0, NAME_1, …; the CSRF cookie is NAME_csrf.
	Name string
	// Domain attribute (--cookie-domain). Default: none (the request's
	// host only).
	Domain string
	// Path attribute (--cookie-path). Default "/".
	Path string
	// Expire is the cookie's lifetime (--cookie-expire), written as Max-Age
	// and also enforced by the server from the issue time sealed inside the
	// cookie. Default DefaultCookieExpire. Negative: a browser-session
	// cookie (no Max-Age) with no server-side limit, which is what
	// oauth2-proxy's --cookie-expire=0 means.
	Expire time.Duration
	// Insecure drops the Secure attribute (--cookie-secure=false), for
	// plain-HTTP development only: the zero value is secure.
	Insecure bool
	// SameSite attribute (--cookie-samesite). The zero value means
	// http.SameSiteLaxMode (oauth2-proxy's default is none at all); use
	// http.SameSiteDefaultMode to write no SameSite attribute.
	SameSite http.SameSite
}

// withDefaults returns c with its zero fields set to the defaults.
func (c CookieConfig) withDefaults() CookieConfig {
	if c.Name == "" {
		c.Name = DefaultCookieName
	}
	if c.Path == "" {
		c.Path = DefaultCookiePath
	}
	if c.Expire == 0 {
		c.Expire = DefaultCookieExpire
	}
	if c.SameSite == 0 {
		c.SameSite = http.SameSiteLaxMode
	}
	return c
}

// maxNameLen keeps every derived name (NAME_csrf_xxxxxxxx, NAME_15) within
// the 256 bytes browsers allow for a name.
const maxNameLen = 256 - len(csrfSuffix) - 9

// Validate reports every problem with c at once.
func (c CookieConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	probe := &http.Cookie{Name: c.Name, Value: "v", Path: c.Path, Domain: c.Domain}
	if err := probe.Valid(); err != nil {
		errs = append(errs, fmt.Errorf("cookie (--cookie-name, --cookie-path, --cookie-domain): %w", err))
	}
	if len(c.Name) > maxNameLen {
		errs = append(errs, fmt.Errorf("cookie name (--cookie-name) must be at most %d bytes; got %d", maxNameLen, len(c.Name)))
	}
	if c.Insecure && c.SameSite == http.SameSiteNoneMode {
		errs = append(errs, errors.New("cookie SameSite=None (--cookie-samesite) requires a Secure cookie: browsers reject it with --cookie-secure=false"))
	}
	// The cookie prefixes are a browser-enforced promise; a config that
	// breaks it would make browsers drop the cookie silently.
	if strings.HasPrefix(c.Name, "__Secure-") && c.Insecure {
		errs = append(errs, errors.New("cookie name (--cookie-name) starts with __Secure- but the cookie is not Secure (--cookie-secure=false)"))
	}
	if strings.HasPrefix(c.Name, "__Host-") && (c.Insecure || c.Domain != "" || c.Path != "/") {
		errs = append(errs, errors.New("cookie name (--cookie-name) starts with __Host-, which requires a Secure cookie with path / and no domain (--cookie-secure, --cookie-path, --cookie-domain)"))
	}
	return errors.Join(errs...)
}

// CSRFName is the name of the CSRF cookie that goes with the session
// cookie: NAME_csrf, as in oauth2-proxy.
func (c CookieConfig) CSRFName() string { return c.withDefaults().Name + csrfSuffix }

// IsSessionCookie reports whether name is one of the gateway's own cookies:
// NAME, a part NAME_n, the CSRF cookie NAME_csrf, or a per-request CSRF
// cookie NAME_csrf_xxx (oauth2-proxy's --cookie-csrf-per-request). The
// proxy strips these from requests it forwards, so upstreams never see the
// user's tokens.
func (c CookieConfig) IsSessionCookie(name string) bool {
	base := c.Name
	if base == "" {
		base = DefaultCookieName
	}
	rest, ok := strings.CutPrefix(name, base)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	if rest == csrfSuffix || strings.HasPrefix(rest, csrfSuffix+"_") {
		return true
	}
	_, ok = partIndex(rest)
	return ok
}

// Split returns the cookies that carry value. By oauth2-proxy's rule, one
// cookie NAME when its Set-Cookie rendering (name, value and attributes)
// is at most MaxCookieSize bytes; otherwise NAME_0, NAME_1, … each filled up
// to MaxCookieSize. Every cookie is HttpOnly and carries c's attributes.
//
// value must consist of cookie-safe bytes without spaces or commas (as
// Seal's output does); net/http would drop or quote others.
func (c CookieConfig) Split(value string) []*http.Cookie {
	c = c.withDefaults()
	whole := c.cookie(c.Name, value)
	if len(whole.String()) <= MaxCookieSize {
		return []*http.Cookie{whole}
	}
	var parts []*http.Cookie
	for i := 0; value != ""; i++ {
		p := c.cookie(c.Name+"_"+strconv.Itoa(i), "")
		room := max(MaxCookieSize-len(p.String()), 1)
		n := min(room, len(value))
		p.Value, value = value[:n], value[n:]
		parts = append(parts, p)
	}
	return parts
}

func (c CookieConfig) cookie(name, value string) *http.Cookie {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     c.Path,
		Domain:   c.Domain,
		Secure:   !c.Insecure,
		HttpOnly: true,
		SameSite: c.SameSite,
	}
	if c.Expire > 0 {
		ck.MaxAge = int(c.Expire / time.Second)
	}
	return ck
}

// Join returns the value carried by r's session cookies: cookie NAME if
// present (it wins, as in oauth2-proxy), otherwise NAME_0, NAME_1, …
// concatenated. It reports false when there is no session cookie, and also
// when the parts are not exactly NAME_0…NAME_k (a gap, or an index of
// MaxCookieParts or more): such a set can only be stale or forged, and
// joining it could not open anyway.
//
// When a name appears twice in the Cookie header (cookies of the same name
// set for different paths or domains) the first wins, as with
// http.Request.Cookie. Join does not check the value's bytes; whoever
// opens it does (see nextCookie).
//
// Join reads the Cookie header itself instead of calling r.Cookie, which
// parses every cookie into a new *http.Cookie: for a single cookie, the
// common case, it allocates nothing and returns a substring of the header.
func (c CookieConfig) Join(r *http.Request) (string, bool) {
	name := c.Name
	if name == "" {
		name = DefaultCookieName
	}
	var (
		parts [MaxCookieParts]string
		have  uint32 // bit i: parts[i] seen
		bad   bool
	)
	single, found := "", false
	for _, line := range cookieLines(r) {
		for line != "" {
			var k, v string
			var ok bool
			k, v, line, ok = nextCookie(line)
			if !ok {
				continue
			}
			rest, isOurs := strings.CutPrefix(k, name)
			switch {
			case !isOurs:
			case rest == "":
				if !found {
					single, found = v, true
				}
			default:
				i, ok := partIndex(rest)
				switch {
				case !ok:
				case i >= MaxCookieParts:
					bad = true
				case have&(1<<i) == 0:
					parts[i] = v
					have |= 1 << i
				}
			}
		}
	}
	if found && single != "" {
		return single, true
	}
	// have must be 0b0…01…1: parts 0…k, all present.
	if bad || have == 0 || have&(have+1) != 0 {
		return "", false
	}
	var b strings.Builder
	n := 0
	for i := 0; have&(1<<i) != 0; i++ {
		n += len(parts[i])
	}
	if n == 0 {
		return "", false
	}
	b.Grow(n)
	for i := 0; have&(1<<i) != 0; i++ {
		b.WriteString(parts[i])
	}
	return b.String(), true
}

// Clear expires cookie NAME and every NAME_n cookie r carries, with c's
// path and domain (a browser only replaces a cookie of the same name, path
// and domain).
func (c CookieConfig) Clear(w http.ResponseWriter, r *http.Request) {
	c = c.withDefaults()
	c.expire(w, c.Name)
	c.expireParts(w, r, nil)
}

// expireParts expires every NAME_n cookie in r that keep does not contain.
func (c CookieConfig) expireParts(w http.ResponseWriter, r *http.Request, keep []*http.Cookie) {
	var done []string
	for _, line := range cookieLines(r) {
		for line != "" {
			var k string
			var ok bool
			k, _, line, ok = nextCookie(line)
			if !ok {
				continue
			}
			rest, isOurs := strings.CutPrefix(k, c.Name)
			if !isOurs || rest == "" || slices.Contains(done, k) ||
				slices.ContainsFunc(keep, func(c *http.Cookie) bool { return c.Name == k }) {
				continue
			}
			if _, ok := partIndex(rest); ok {
				c.expire(w, k)
				done = append(done, k)
			}
		}
	}
}

func (c CookieConfig) expire(w http.ResponseWriter, name string) {
	ck := c.cookie(name, "")
	ck.MaxAge = -1               // Max-Age=0
	ck.Expires = time.Unix(1, 0) // for browsers that predate Max-Age
	http.SetCookie(w, ck)
}

// cookieLines returns r's Cookie header lines; none for a nil r.
func cookieLines(r *http.Request) []string {
	if r == nil {
		return nil
	}
	return r.Header["Cookie"]
}

// partIndex parses the "_n" after NAME: n decimal, without leading zeros.
func partIndex(rest string) (int, bool) {
	digits, ok := strings.CutPrefix(rest, "_")
	if !ok || digits == "" || len(digits) > 6 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
		n = n*10 + int(digits[i]-'0')
	}
	return n, true
}

// nextCookie takes the first "name=value" pair off a Cookie header line the
// way net/http does (readCookies): pairs are separated by ';', surrounding
// whitespace is trimmed, and a value may be wrapped in double quotes. ok is
// false for an empty pair. It allocates nothing.
//
// Unlike net/http it does not check that the value's bytes are allowed in a
// cookie: that check reads every byte of a 3 KB session cookie on every
// request, and costs more than everything else Load does on a cache hit.
// Values are checked where they are used (Codec.Open accepts only strict
// base64url); the one visible difference is that when a name appears twice
// and the first value has such a byte, net/http skips to the second and
// Join does not.
func nextCookie(line string) (name, value, rest string, ok bool) {
	part, rest, _ := strings.Cut(line, ";")
	part = trimSpace(part)
	if part == "" {
		return "", "", rest, false
	}
	name, value, _ = strings.Cut(part, "=")
	name = trimSpace(name)
	if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	return name, value, rest, true
}

// trimSpace is textproto.TrimString: ASCII whitespace only.
func trimSpace(s string) string {
	for s != "" && isSpace(s[0]) {
		s = s[1:]
	}
	for s != "" && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }
