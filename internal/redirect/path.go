package redirect

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxDecodeDepth is how many rounds of percent-decoding checkPath and
// checkQueryOrFragment undo. Each component between the browser and the
// application (a proxy, a framework, a second redirect) may decode once
// more, so a check on the raw text alone misses "%2509" (a tab after two
// decodes) or "%252e%252e" (".."). Legitimate targets nest a URL in a query
// two or three levels deep at most; deeper nesting is refused rather than
// decoded forever.
const maxDecodeDepth = 8

// validEscapes reports whether every "%" in s starts a two-hex-digit escape.
func validEscapes(s string) bool {
	for i := strings.IndexByte(s, '%'); i >= 0; {
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		next := strings.IndexByte(s[i+3:], '%')
		if next < 0 {
			break
		}
		i += 3 + next
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// splitRest splits what follows the authority (or a whole relative target)
// into path, query and fragment, without their "?" and "#" delimiters. The
// fragment starts at the first "#", and the query at the first "?" before
// it.
func splitRest(s string) (path, query, fragment string) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s, fragment = s[:i], s[i+1:]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s, query = s[:i], s[i+1:]
	}
	return s, query, fragment
}

// Parts of a target, for escapeRest.
const (
	inPath = iota
	inQuery
	inFragment
)

// shouldEscape reports whether byte c, which is not whitespace or a control
// character (those are refused earlier), is percent-encoded in the
// normalized form of the given part.
//
// Kept as they are: RFC 3986 unreserved characters, sub-delims, ":", "@",
// "/", and "%" (every "%" already starts a valid escape); "?" also in the
// query and fragment. Encoded: bytes ≥ 0x80, so the output is ASCII and no
// Unicode look-alike or bidi control survives; `"`, "<", ">" and backquote,
// so the output cannot break out of an HTML attribute even if a template
// forgot to escape it; "\", "[", "]", "^", "{", "|", "}", which RFC 3986
// does not allow unencoded and parsers disagree on; and "#" inside a
// fragment.
func shouldEscape(c byte, part int) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return false
	}
	switch c {
	case '-', '.', '_', '~', // unreserved
		'!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', // sub-delims
		':', '@', '/', '%':
		return false
	case '?':
		return part == inPath
	}
	return true
}

// escapeRest returns s (a path with optional query and fragment) with the
// bytes shouldEscape selects percent-encoded. It returns s itself, without
// allocating, when nothing needs encoding.
func escapeRest(s string) string {
	part := inPath
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '?' && part == inPath:
			part = inQuery
		case c == '#' && part != inFragment:
			part = inFragment
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if !shouldEscape(c, part) {
			if b != nil {
				b = append(b, c)
			}
			continue
		}
		if b == nil {
			b = make([]byte, i, len(s)+16)
			copy(b, s[:i])
		}
		const hexDigits = "0123456789ABCDEF"
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}

// decodeFully percent-decodes s repeatedly until no escape is left, at most
// maxDecodeDepth times.
func decodeFully(s string) (string, error) {
	for range maxDecodeDepth {
		d, changed := decodeOnce(s)
		if !changed {
			return s, nil
		}
		s = d
	}
	if _, changed := decodeOnce(s); changed {
		return "", errDeepEncoding
	}
	return s, nil
}

// decodeOnce decodes the valid escapes in s once, leaving any other "%" as
// it is.
func decodeOnce(s string) (string, bool) {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s, false
	}
	var b []byte
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			if b == nil {
				b = make([]byte, i, len(s))
				copy(b, s[:i])
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		if b != nil {
			b = append(b, c)
		}
	}
	if b == nil {
		return s, false
	}
	return string(b), true
}

// hasControl reports whether s contains an ASCII control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c == 0x7f {
			return true
		}
	}
	return false
}

// checkQueryOrFragment checks a normalized query or fragment. Neither can
// change the host a browser goes to, so URLs, "//" and ".." are all fine
// there ("/login?next=https://x" is common). What is refused is a control
// character after any number of decodes ("%0d%0a", "%2500"): a component
// that decodes and reflects the value into a header or a second redirect
// would be split or truncated by it.
func checkQueryOrFragment(s string) error {
	d, err := decodeFully(s)
	if err != nil {
		return err
	}
	if hasControl(d) {
		return errEncodedControl
	}
	return nil
}

// checkPath checks a normalized path: empty, or starting with "/". The
// checks run on the fully decoded path, because browsers decode "%2e" in
// dot segments, and servers, frameworks and the application behind the
// gateway may decode the rest once or twice before they act on it (for
// example by redirecting again):
//   - relative is true for a target without scheme and host; its decoded
//     path must not start with "//" or "/\" ("/%2f%2fevil.com",
//     "/%5cevil.com"), which is a protocol-relative URL to whoever decodes it;
//   - no control character ("/%09/evil.com", "/%2509/evil.com");
//   - no backslash, which browsers read as "/" (GHSA-qqxw-m5fj-f7gv);
//   - no empty segment ("/a//evil.com"): after a decode, or after a
//     server joins paths, "//" starts a new authority;
//   - no dot segment (".", "..", "%2e%2e", "..;param", or a segment of
//     Unicode full stops, which NFKC normalization maps to dots): they move the path
//     up the tree, and "/./\evil.com" was GHSA-5m6c-jp6f-2vcv;
//   - no segment of whitespace only ("/ /evil.com", "/%20/evil.com"):
//     oauth2-proxy's fix for GHSA-j7px-6hwj-hpjg refuses these too;
//   - no Unicode slash look-alike ("／", "∕", "⁄"), which NFKC or a
//     careless "fix-up" can turn into "/".
//
// A trailing "/" is allowed ("/docs/").
func checkPath(p string, relative bool) error {
	if p == "" {
		return nil
	}
	d, err := decodeFully(p)
	if err != nil {
		return err
	}
	if relative && len(d) > 1 && (d[1] == '/' || d[1] == '\\') {
		return errProtocolRelative
	}
	if hasControl(d) {
		return errEncodedControl
	}
	if strings.IndexByte(d, '\\') >= 0 {
		return errBackslash
	}
	if hasSlashLike(d) {
		return errSlashLike
	}
	segs := d[1:]
	for {
		seg, rest, more := strings.Cut(segs, "/")
		switch {
		case seg == "":
			if more {
				return errEmptySegment
			}
		case isDotSegment(seg):
			return errDotSegment
		case isBlank(seg):
			return errBlankSegment
		}
		if !more {
			return nil
		}
		segs = rest
	}
}

// isDotSegment reports whether seg consists only of full stops: ASCII "."
// or a Unicode character that NFKC normalization maps to one or more of
// them. A path parameter is ignored first, because servlet containers read
// "/..;x/" as "/../".
func isDotSegment(seg string) bool {
	if i := strings.IndexByte(seg, ';'); i > 0 {
		seg = seg[:i]
	}
	for _, r := range seg {
		switch r {
		case '.',
			'\u2024', // ONE DOT LEADER
			'\u2025', // TWO DOT LEADER
			'\u2026', // HORIZONTAL ELLIPSIS
			'\u3002', // IDEOGRAPHIC FULL STOP
			'\uFE52', // SMALL FULL STOP
			'\uFF0E', // FULLWIDTH FULL STOP
			'\uFF61': // HALFWIDTH IDEOGRAPHIC FULL STOP
		default:
			return false
		}
	}
	return true
}

// isBlank reports whether a non-empty seg consists only of Unicode white
// space.
func isBlank(seg string) bool {
	for _, r := range seg {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// hasSlashLike reports whether s contains a Unicode look-alike of "/" or
// "\".
func hasSlashLike(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\u2044', // FRACTION SLASH
			'\u2215', // DIVISION SLASH
			'\u2216', // SET MINUS
			'\u29F5', // REVERSE SOLIDUS OPERATOR
			'\u29F8', // BIG SOLIDUS
			'\u29F9', // BIG REVERSE SOLIDUS
			'\uFE68', // SMALL REVERSE SOLIDUS
			'\uFF0F', // FULLWIDTH SOLIDUS
			'\uFF3C': // FULLWIDTH REVERSE SOLIDUS
			return true
		}
		i += size
	}
	return false
}
