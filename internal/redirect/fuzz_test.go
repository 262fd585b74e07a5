package redirect

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// oracleEntries restates testWhitelist in the simplest possible form, so the
// fuzz test judges hosts independently of the Validator's own matcher.
var oracleEntries = []struct {
	host string // as url.URL.Hostname returns it
	sub  bool   // also every name ending in "."+host
	port string // "" (no explicit port), "*" (any) or digits
}{
	{"good.example", false, ""},
	{"corp.example", true, ""},
	{"app.example", false, "8443"},
	{"anyport.example", true, "*"},
	{"localhost", false, "3000"},
	{"www.whitelisteddomain.tld", false, ""},
	{"127.0.0.1", false, "9000"},
	{"::1", false, "8080"},
}

// oracleAllows reports whether the parsed URL's host and port are in the
// test whitelist.
func oracleAllows(u *url.URL) bool {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.String() // IPv6 literals compare in canonical form
	}
	for _, e := range oracleEntries {
		if host != e.host && !(e.sub && strings.HasSuffix(host, "."+e.host)) {
			continue
		}
		if e.port == "*" || e.port == port {
			return true
		}
	}
	return false
}

// browserParse approximates how a browser reads a Location value on
// https://gateway.example/: backslashes become slashes (as in special-scheme
// URLs), then the reference is resolved against the page.
func browserParse(s string) (*url.URL, error) {
	ref, err := url.Parse(strings.ReplaceAll(s, `\`, "/"))
	if err != nil {
		return nil, err
	}
	base := &url.URL{Scheme: "https", Host: "gateway.example", Path: "/"}
	return base.ResolveReference(ref), nil
}

// FuzzValid checks the properties every accepted target must have. Seeds are
// the whole hostile and legitimate corpus.
func FuzzValid(f *testing.F) {
	for _, tc := range hostileCases {
		f.Add(tc.in)
	}
	for _, tc := range legitCases {
		f.Add(tc.in)
	}
	for _, rd := range readHostileFile(f) {
		f.Add(rd)
	}
	v := newTestValidator(f)

	f.Fuzz(func(t *testing.T, rd string) {
		// Random bytes rarely form an accepted absolute URL, so each input
		// is also tried behind heads the whitelist accepts: the fuzzer then
		// spends its time on the authority, port and path grammar.
		for _, head := range fuzzHeads {
			checkProperties(t, v, head+rd)
		}
	})
}

// fuzzHeads are prefixes each fuzz input is tried behind.
var fuzzHeads = []string{
	"",
	"/",
	"https://",
	"https://good.example",
	"http://x.corp.example",
	"https://a.anyport.example:",
	"http://[::1]:8080",
}

// checkProperties checks properties (a) to (e) for one input.
func checkProperties(t *testing.T, v *Validator, rd string) {
	t.Helper()
	out, ok := v.Valid(rd)
	if !ok {
		if out != "" {
			t.Fatalf("Valid(%q) = %q, false; want \"\" on refusal", rd, out)
		}
		return
	}

	// (d) Nothing a header or a browser's URL pre-processing could act on.
	for i := 0; i < len(out); i++ {
		if c := out[i]; c <= ' ' || c == 0x7f || c >= 0x80 {
			t.Fatalf("Valid(%q) = %q, which contains byte %#x", rd, out, c)
		}
	}
	if len(out) > MaxLength {
		t.Fatalf("Valid(%q) = %q, longer than MaxLength", rd, out)
	}

	// (a) Shape: a rooted path, or an http(s) URL to an allowed host.
	relative := strings.HasPrefix(out, "/")
	if relative {
		if strings.HasPrefix(out, "//") || strings.HasPrefix(out, `/\`) {
			t.Fatalf("Valid(%q) = %q, a protocol-relative path", rd, out)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("Valid(%q) = %q, which net/url cannot parse: %v", rd, out, err)
		}
		if u.Scheme != "" || u.Host != "" || u.User != nil {
			t.Fatalf("Valid(%q) = %q, which net/url reads as scheme %q host %q", rd, out, u.Scheme, u.Host)
		}
	} else {
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("Valid(%q) = %q, which net/url cannot parse: %v", rd, out, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("Valid(%q) = %q, scheme %q", rd, out, u.Scheme)
		}
		if u.User != nil || u.Opaque != "" {
			t.Fatalf("Valid(%q) = %q, with userinfo or an opaque part", rd, out)
		}
		if !strings.HasPrefix(out, u.Scheme+"://"+u.Host) {
			t.Fatalf("Valid(%q) = %q, but net/url reads host %q", rd, out, u.Host)
		}
		if !oracleAllows(u) {
			t.Fatalf("Valid(%q) = %q, host %q port %q not in the whitelist", rd, out, u.Hostname(), u.Port())
		}
	}

	// (b) Idempotent.
	if again, ok := v.Valid(out); !ok || again != out {
		t.Fatalf("Valid(%q) = %q, but Valid(%q) = %q, %v", rd, out, out, again, ok)
	}

	// (c) A browser-like parser lands on the gateway or an allowed host.
	u, err := browserParse(out)
	if err != nil {
		t.Fatalf("Valid(%q) = %q, which the browser-like parser rejects: %v", rd, out, err)
	}
	switch {
	case relative && u.Host != "gateway.example":
		t.Fatalf("Valid(%q) = %q, which resolves to host %q", rd, out, u.Host)
	case !relative && !oracleAllows(u):
		t.Fatalf("Valid(%q) = %q, which resolves to host %q", rd, out, u.Host)
	}

	// (e) The raw input, had the caller used it instead of the
	// normalized form, would not have left the allowed hosts either.
	if u, err := browserParse(rd); err == nil {
		if u.Host != "gateway.example" && !oracleAllows(u) {
			t.Fatalf("Valid(%q) = %q, but the raw input resolves to host %q", rd, out, u.Host)
		}
	}
}
