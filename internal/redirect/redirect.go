// Package redirect decides whether a post-login or post-logout redirect
// target is safe to send a browser to.
//
// Every redirect target the gateway is handed is hostile input: the rd query
// parameter on /oauth2/start and /oauth2/sign_out and the
// X-Auth-Request-Redirect header are all chosen by whoever built the link the
// user clicked. An open redirect on an identity-aware proxy is worse than on
// an ordinary site: the user has just authenticated, so an attacker who can
// choose where the gateway sends them next gets a trusted-looking phishing
// hop, and in OAuth flows can leak codes or tokens to a host they control.
//
// The rules follow oauth2-proxy v7's --whitelist-domain semantics and its
// history of advisories (GHSA-qqxw-m5fj-f7gv: "/\evil.com";
// GHSA-j7px-6hwj-hpjg: whitespace between the slashes, "/\t/evil.com";
// GHSA-5m6c-jp6f-2vcv: dot segments, "/./\evil.com";
// GHSA-4mf2-f3wh-gvf2: ".example.com" matching "badexample.com"). Each of
// those was a blacklist that missed a spelling. This package instead accepts
// only a narrow grammar — a rooted path, or an http(s) URL whose authority is
// a plain ASCII host and port — and refuses everything else, so a new
// spelling has to get through an allow-list rather than around a deny-list.
package redirect

import (
	"errors"
	"strings"
)

// MaxLength is the longest redirect target, in bytes, that Valid accepts,
// before or after normalization. Real targets are short; a long one is a
// denial-of-service attempt on the checks below or an attempt to smuggle a
// payload, and it would not survive cookies and headers anyway.
const MaxLength = 2048

// ErrRefused is wrapped by every error Check returns, so callers can test
// for it with errors.Is. The rest of the message names the rule that fired;
// it never repeats the input.
var ErrRefused = errors.New("redirect refused")

// Reasons a target is refused. Each is wrapped with ErrRefused by Check.
var (
	errEmpty            = errors.New("empty")
	errTooLong          = errors.New("longer than 2048 bytes")
	errControl          = errors.New("whitespace or control character")
	errBadEscape        = errors.New("malformed percent-encoding")
	errScheme           = errors.New(`neither a path starting with "/" nor an http or https URL`)
	errProtocolRelative = errors.New(`protocol-relative (path starts with "//" or "/\")`)
	errBackslash        = errors.New("backslash")
	errEncodedControl   = errors.New("percent-encoded control character")
	errDeepEncoding     = errors.New("percent-encoding nested too deeply")
	errEmptySegment     = errors.New(`empty path segment ("//")`)
	errDotSegment       = errors.New(`dot segment ("." or "..")`)
	errBlankSegment     = errors.New("whitespace-only path segment")
	errSlashLike        = errors.New("slash-like character in path")
	errNotAllowed       = errors.New("host and port not in the whitelist")
)

// Validator checks redirect targets against a parsed whitelist. It is
// immutable after New and safe for concurrent use. The zero Validator has an
// empty whitelist: it accepts relative paths only.
type Validator struct {
	// exact maps a host ("example.com", "127.0.0.1", "[::1]") to the ports
	// allowed for it.
	exact map[string]ports
	// subdomains maps a domain ("example.com" for the entry ".example.com")
	// to the ports allowed for it and every name below it.
	subdomains map[string]ports
}

// Valid reports whether rd is a safe redirect target and, if so, returns it
// in normalized form (see Check). When ok is false the caller must not use
// rd at all and should fall back to "/".
func (v *Validator) Valid(rd string) (target string, ok bool) {
	target, err := v.Check(rd)
	return target, err == nil
}

// Check is Valid with the reason for a refusal, for the caller's log line.
// The error wraps ErrRefused and does not contain rd.
//
// Two shapes are accepted:
//
//   - A path starting with exactly one "/", with optional query and
//     fragment: "/app?x=1#top". The browser resolves it against the
//     gateway's own origin, so the user stays on the gateway's host.
//   - An absolute http or https URL whose host (and port) the whitelist
//     allows: "https://app.example.com/x".
//
// Everything else is refused, in particular: schemeless hosts
// ("evil.com/x"), every other scheme ("javascript:", "data:", …),
// protocol-relative and backslash forms ("//evil.com", "/\evil.com",
// "https:\\evil.com"), malformed schemes ("http:/evil.com",
// "https:evil.com"), userinfo, percent-encoding or non-ASCII in the host,
// whitespace and control characters raw or percent-encoded, dot segments and
// empty segments in the path, and targets over MaxLength.
//
// The normalized form lower-cases the scheme and host, writes an IPv6
// literal in canonical form, and percent-encodes bytes a browser or HTML
// template could misread (non-ASCII, `"<>[]\^{|}` and backquote, "#" inside
// a fragment). It contains no whitespace or control character, so it is safe
// in a Location header, and Check accepts it unchanged (normalization is
// idempotent).
func (v *Validator) Check(rd string) (string, error) {
	out, reason := v.check(rd)
	if reason != nil {
		return "", refusal{reason}
	}
	return out, nil
}

// refusal wraps a reason with ErrRefused.
type refusal struct{ reason error }

func (r refusal) Error() string { return ErrRefused.Error() + ": " + r.reason.Error() }

// Is makes errors.Is(err, ErrRefused) true.
func (r refusal) Is(target error) bool { return target == ErrRefused }

// Unwrap exposes the specific reason, for tests.
func (r refusal) Unwrap() error { return r.reason }

func (v *Validator) check(rd string) (string, error) {
	if rd == "" {
		// The caller uses "/"; an empty Location would mean "this page".
		return "", errEmpty
	}
	if len(rd) > MaxLength {
		return "", errTooLong
	}
	// Browsers delete tab, CR and LF anywhere in a URL and trim leading and
	// trailing C0 controls and spaces before parsing, so "/\t/evil.com"
	// becomes "//evil.com" (GHSA-j7px-6hwj-hpjg). CR and LF would also split
	// the Location header. No legitimate target contains a raw one of these,
	// so refuse rather than strip.
	for i := 0; i < len(rd); i++ {
		if c := rd[i]; c <= ' ' || c == 0x7f {
			return "", errControl
		}
	}
	// A "%" that is not the start of an escape is read differently by
	// different parsers (Go refuses it, browsers keep it); refuse so that
	// everyone downstream sees the same URL.
	if !validEscapes(rd) {
		return "", errBadEscape
	}
	switch {
	case rd[0] == '/':
		return checkRelative(rd)
	case hasPrefixFold(rd, "https://"):
		return v.checkAbsolute(rd, "https")
	case hasPrefixFold(rd, "http://"):
		return v.checkAbsolute(rd, "http")
	default:
		// Refuses every other scheme (javascript:, data:, vbscript:, file:
		// …), malformed http ones (http:/evil.com, https:evil.com,
		// https:\\evil.com), and schemeless hosts (evil.com/path), which
		// some callers would otherwise prefix with "//" or "https://".
		return "", errScheme
	}
}

// checkRelative checks a target starting with "/".
func checkRelative(rd string) (string, error) {
	// "//evil.com" is a network-path reference: the browser keeps the scheme
	// and goes to evil.com. "/\evil.com" is the same to a browser, which
	// reads "\" as "/" in http(s) URLs (GHSA-qqxw-m5fj-f7gv).
	if len(rd) > 1 && (rd[1] == '/' || rd[1] == '\\') {
		return "", errProtocolRelative
	}
	out := escapeRest(rd)
	path, query, fragment := splitRest(out)
	if err := checkPath(path, true); err != nil {
		return "", err
	}
	if err := checkQueryOrFragment(query); err != nil {
		return "", err
	}
	if err := checkQueryOrFragment(fragment); err != nil {
		return "", err
	}
	if len(out) > MaxLength {
		return "", errTooLong
	}
	return out, nil
}

// checkAbsolute checks a target that starts with "http://" or "https://"
// in any case; scheme is the lower-case scheme.
func (v *Validator) checkAbsolute(rd, scheme string) (string, error) {
	afterScheme := len(scheme) + len("://")
	// The authority ends at the first "/", "?" or "#". Browsers also end it
	// at "\"; a backslash is not a host character, so parseAuthority refuses
	// it instead of guessing.
	end := strings.IndexAny(rd[afterScheme:], "/?#")
	if end < 0 {
		end = len(rd)
	} else {
		end += afterScheme
	}
	host, port, err := parseAuthority(rd[afterScheme:end])
	if err != nil {
		return "", err
	}
	if !v.allows(host, port) {
		return "", errNotAllowed
	}
	rest := rd[end:]
	escapedRest := escapeRest(rest)
	path, query, fragment := splitRest(escapedRest)
	if err := checkPath(path, false); err != nil {
		return "", err
	}
	if err := checkQueryOrFragment(query); err != nil {
		return "", err
	}
	if err := checkQueryOrFragment(fragment); err != nil {
		return "", err
	}

	authority := host
	if port != "" {
		authority += ":" + port
	}
	var out string
	if rd[:len(scheme)] == scheme && rd[afterScheme:end] == authority && escapedRest == rest {
		out = rd // already normalized: no allocation
	} else {
		out = scheme + "://" + authority + escapedRest
	}
	if len(out) > MaxLength {
		return "", errTooLong
	}
	return out, nil
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix,
// ignoring ASCII case in s.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
