package redirect

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Reasons an authority (the host and port of a URL or a whitelist entry) is
// refused.
var (
	errNoHost       = errors.New("missing host")
	errUserinfo     = errors.New(`userinfo ("@") in authority`)
	errPercentHost  = errors.New("percent-encoding in host")
	errNonASCIIHost = errors.New("non-ASCII host (write internationalized names in punycode, xn--…)")
	errHostChar     = errors.New("invalid character in host")
	errIPv6         = errors.New("malformed IPv6 literal")
	errColons       = errors.New(`more than one ":" outside brackets (IPv6 addresses go in "[ ]")`)
	errPort         = errors.New("invalid port (want 1-65535, no leading zero)")
	errLabel        = errors.New("empty or over-long label in host")
	errHostLength   = errors.New("host longer than 253 bytes")
	errIPv4         = errors.New("host ends in a number but is not a canonical dotted-quad IPv4 address")
)

// EntryError describes a whitelist entry that New refused.
type EntryError struct {
	Entry  string // the entry as given
	Reason string // why it was refused
}

func (e *EntryError) Error() string {
	return "whitelist domain " + strconv.Quote(e.Entry) + ": " + e.Reason
}

// New parses whitelist entries in oauth2-proxy's --whitelist-domain syntax
// and returns a Validator that allows absolute redirects to them. New does
// no I/O.
//
// Entry forms (host names are compared case-insensitively, as ASCII bytes,
// with no IDNA mapping):
//
//	example.com          exactly example.com, without an explicit port
//	.example.com         example.com and every name below it (a.b.example.com),
//	                     but not badexample.com nor example.com.evil.com
//	*.example.com        the same as .example.com (oauth2-proxy v7 spelling)
//	example.com:8443     exactly that host on exactly that port
//	.example.com:*       the domain and its subdomains on any port
//	localhost:3000       single-label names work the same way
//	127.0.0.1:9000       canonical dotted-quad IPv4 literals
//	[::1]:8080           bracketed IPv6 literals (no zone)
//
// An entry without a port allows only URLs that have no explicit port, as
// in oauth2-proxy: "example.com" refuses "https://example.com:443/"; write
// "example.com:443" or "example.com:*" to allow it. Explicit ports must
// match exactly, and ":*" allows any.
//
// Entries are not trimmed. An entry that is empty, has a scheme, path,
// userinfo, whitespace, percent-encoding, non-ASCII, an empty or over-long
// label, a trailing dot, a bad port, or a "." prefix on an IP address is
// refused: New reports every bad entry at once as *EntryError values joined
// with errors.Join, and returns a nil Validator.
func New(whitelist []string) (*Validator, error) {
	v := &Validator{
		exact:      make(map[string]ports),
		subdomains: make(map[string]ports),
	}
	var errs []error
	for _, entry := range whitelist {
		host, port, sub, reason := parseEntry(entry)
		if reason != "" {
			errs = append(errs, &EntryError{Entry: entry, Reason: reason})
			continue
		}
		m := v.exact
		if sub {
			m = v.subdomains
		}
		p := m[host]
		p.add(port)
		m[host] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return v, nil
}

// parseEntry parses one whitelist entry into a canonical host, a port ("",
// "*" or digits), and whether it covers subdomains. reason is empty when
// the entry is valid.
func parseEntry(entry string) (host, port string, sub bool, reason string) {
	if entry == "" {
		return "", "", false, "empty entry"
	}
	for i := 0; i < len(entry); i++ {
		if c := entry[i]; c <= ' ' || c == 0x7f {
			return "", "", false, "contains whitespace or a control character"
		}
	}
	if strings.Contains(entry, "://") {
		return "", "", false, `must be a domain with an optional port, not a URL (drop the scheme)`
	}
	if strings.ContainsAny(entry, "/\\?#") {
		return "", "", false, `must be a domain with an optional port, without a path, query or fragment`
	}
	rest := entry
	switch {
	case strings.HasPrefix(rest, "*."):
		sub, rest = true, rest[2:]
	case strings.HasPrefix(rest, "."):
		sub, rest = true, rest[1:]
	}
	anyPort := false
	if r, ok := strings.CutSuffix(rest, ":*"); ok {
		anyPort, rest = true, r
	}
	if strings.Contains(rest, "*") {
		return "", "", false, `"*" is allowed only as a "*." prefix or a ":*" port`
	}
	if rest == "" {
		return "", "", false, "missing host"
	}
	host, port, err := parseAuthority(rest)
	if err != nil {
		return "", "", false, err.Error()
	}
	if anyPort {
		if port != "" {
			return "", "", false, errPort.Error()
		}
		port = "*"
	}
	if sub && isIPLiteral(host) {
		return "", "", false, `a "." or "*." prefix (subdomains) cannot apply to an IP address`
	}
	return host, port, sub, ""
}

// parseAuthority checks an authority — the text between "://" and the
// first "/", "?" or "#" — and returns its canonical lower-case host and its
// port ("" when absent).
//
// The grammar is deliberately narrower than RFC 3986 and WHATWG, whose
// leniencies are where open redirects hide:
//   - no userinfo: "https://good.example@evil.example" goes to
//     evil.example, and a reader (human or regexp) sees good.example;
//   - no percent-encoding: "good.example%40evil.example" and
//     "evil.com%E3%80%82" (an encoded ideographic full stop, which IDNA maps
//     to ".") decode into a different host than the one checked, and
//     encoded whitespace or NUL truncates or splits it;
//   - ASCII only: IDNA maps look-alike code points (fullwidth letters and
//     dots) to other ASCII names, so the bytes compared here would not be
//     the host the browser contacts;
//   - no backslash: browsers treat it as "/", ending the host early;
//   - labels of letters, digits, "-" and "_", 1 to 63 bytes, no trailing
//     dot;
//   - a name whose last label is a number is parsed by browsers as an IPv4
//     address in any of its exotic forms ("0x7f.1", "2130706433"), so it
//     must be a canonical dotted quad;
//   - IPv6 only in brackets and without a zone identifier (zones are
//     host-local and their "%" is an escape hazard); written canonically on
//     output;
//   - a port, if present, is 1-65535 in decimal without leading zeros, and
//     not empty ("host:" is "host" to a browser but not to the whitelist).
func parseAuthority(authority string) (host, port string, err error) {
	if authority == "" {
		// "https:///evil.com": browsers skip the extra slashes and go to
		// evil.com.
		return "", "", errNoHost
	}
	lower := true
	for i := 0; i < len(authority); i++ {
		c := authority[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '-', c == '_', c == ':', c == '[', c == ']':
		case 'A' <= c && c <= 'Z':
			lower = false
		case c == '@':
			return "", "", errUserinfo
		case c == '%':
			return "", "", errPercentHost
		case c >= 0x80:
			return "", "", errNonASCIIHost
		case c == '\\':
			return "", "", errBackslash
		case c <= ' ' || c == 0x7f:
			return "", "", errControl
		default:
			return "", "", errHostChar
		}
	}
	if !lower {
		authority = strings.ToLower(authority)
	}

	hostPart, hasPort := authority, false
	if authority[0] == '[' {
		end := strings.IndexByte(authority, ']')
		if end < 0 {
			return "", "", errIPv6
		}
		hostPart = authority[:end+1]
		if rest := authority[end+1:]; rest != "" {
			if rest[0] != ':' {
				return "", "", errIPv6
			}
			port, hasPort = rest[1:], true
		}
	} else if i := strings.IndexByte(authority, ':'); i >= 0 {
		hostPart, port, hasPort = authority[:i], authority[i+1:], true
		if strings.IndexByte(port, ':') >= 0 {
			return "", "", errColons
		}
	}
	if hasPort && !validPort(port) {
		return "", "", errPort
	}
	host, err = parseHost(hostPart)
	if err != nil {
		return "", "", err
	}
	return host, port, nil
}

// parseHost checks a lower-case host and returns its canonical form.
func parseHost(h string) (string, error) {
	if h == "" {
		return "", errNoHost
	}
	if h[0] == '[' {
		if len(h) < 2 || h[len(h)-1] != ']' {
			return "", errIPv6
		}
		a, err := netip.ParseAddr(h[1 : len(h)-1])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return "", errIPv6
		}
		return "[" + a.String() + "]", nil
	}
	if strings.ContainsAny(h, "[]:") {
		return "", errIPv6
	}
	if len(h) > 253 {
		return "", errHostLength
	}
	start := 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			continue
		}
		if n := i - start; n == 0 || n > 63 {
			return "", errLabel
		}
		start = i + 1
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if endsInNumber(last) {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() || a.String() != h {
			return "", errIPv4
		}
	}
	return h, nil
}

// endsInNumber reports whether label is one that the WHATWG URL parser
// treats as a number, making the whole host an IPv4 address: all decimal
// digits, or "0x" followed by hex digits.
func endsInNumber(label string) bool {
	if strings.HasPrefix(label, "0x") {
		return strings.Trim(label[2:], "0123456789abcdef") == ""
	}
	return strings.Trim(label, "0123456789") == ""
}

// isIPLiteral reports whether a canonical host is an IP address.
func isIPLiteral(host string) bool {
	if host[0] == '[' {
		return true
	}
	return endsInNumber(host[strings.LastIndexByte(host, '.')+1:])
}

// validPort reports whether p is a decimal port 1-65535 without leading
// zeros.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// ports is the set of ports whitelisted for one host or domain.
type ports struct {
	none bool     // URLs without an explicit port
	any  bool     // every port (":*")
	list []string // explicit ports
}

func (p *ports) add(port string) {
	switch port {
	case "":
		p.none = true
	case "*":
		p.any = true
	default:
		if !slices.Contains(p.list, port) {
			p.list = append(p.list, port)
		}
	}
}

func (p ports) allow(port string) bool {
	switch {
	case p.any:
		return true
	case port == "":
		return p.none
	default:
		return slices.Contains(p.list, port)
	}
}

// allows reports whether the whitelist allows a canonical host and port.
//
// A subdomain entry for example.com is looked up only at label boundaries
// of the host — example.com itself, then each suffix that follows a "." —
// so "badexample.com" (GHSA-4mf2-f3wh-gvf2) and "example.com.evil.com" can
// never match it: there is no string-suffix test to get wrong.
func (v *Validator) allows(host, port string) bool {
	if p, ok := v.exact[host]; ok && p.allow(port) {
		return true
	}
	if len(v.subdomains) == 0 || isIPLiteral(host) {
		return false
	}
	for h := host; ; {
		if p, ok := v.subdomains[h]; ok && p.allow(port) {
			return true
		}
		i := strings.IndexByte(h, '.')
		if i < 0 {
			return false
		}
		h = h[i+1:]
	}
}
