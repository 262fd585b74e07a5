package redirect

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testWhitelist is the whitelist every corpus test and the fuzz test use.
// The hostile inputs aim at evil.com / evil.example while dressing up as the
// hosts listed here.
var testWhitelist = []string{
	"good.example",
	".corp.example",
	"app.example:8443",
	"*.anyport.example:*",
	"localhost:3000",
	"www.whitelisteddomain.tld",
	"127.0.0.1:9000",
	"[::1]:8080",
}

func newTestValidator(t testing.TB) *Validator {
	t.Helper()
	v, err := New(testWhitelist)
	if err != nil {
		t.Fatalf("New(%q) error: %v", testWhitelist, err)
	}
	return v
}

// legitCases are targets that must be accepted, with their normalized form.
var legitCases = []struct {
	name string
	in   string
	want string
}{
	{"root", "/", "/"},
	{"simple path", "/app", "/app"},
	{"nested path with trailing slash", "/docs/guide/", "/docs/guide/"},
	{"query and fragment", "/app?x=1&y=two#top", "/app?x=1&y=two#top"},
	{"empty query", "/app?", "/app?"},
	{"empty fragment", "/app#", "/app#"},
	{"query only on root", "/?tab=settings", "/?tab=settings"},
	{"encoded space in path", "/my%20docs/file.txt", "/my%20docs/file.txt"},
	{"encoded slash inside a segment", "/a%2Fb", "/a%2Fb"},
	{"tilde and sub-delims", "/~user/a;b=c,d!$&'()*+", "/~user/a;b=c,d!$&'()*+"},
	{"colon and at in path", "/a:b@c", "/a:b@c"},
	{"dots inside names", "/a/b.c/d..e/.well-known", "/a/b.c/d..e/.well-known"},
	{"URL in query is fine", "/login?next=https://evil.com//x/../y", "/login?next=https://evil.com//x/../y"},
	{"encoded URL in query", "/start?rd=%2F%2Fevil.com%2F..%2F", "/start?rd=%2F%2Fevil.com%2F..%2F"},
	{"double-encoded query value", "/s?q=%2520", "/s?q=%2520"},
	{"percent sign itself, encoded", "/sale?off=50%25", "/sale?off=50%25"},
	{"non-ASCII path is encoded", "/café", "/caf%C3%A9"},
	{"non-ASCII query is encoded", "/s?q=日本", "/s?q=%E6%97%A5%E6%9C%AC"},
	{"HTML-special bytes are encoded", `/a<b>"c"` + "`", "/a%3Cb%3E%22c%22%60"},
	{"backslash in query is encoded", `/s?path=C:\dir`, "/s?path=C:%5Cdir"},
	{"brackets and braces are encoded", "/s?a[]=1&b={x}|^", "/s?a%5B%5D=1&b=%7Bx%7D%7C%5E"},
	{"hash inside fragment is encoded", "/a#b#c", "/a#b%23c"},
	{"question mark in fragment kept", "/a#b?c", "/a#b?c"},
	{"exact host https", "https://good.example/app", "https://good.example/app"},
	{"exact host http", "http://good.example/app", "http://good.example/app"},
	{"exact host without path", "https://good.example", "https://good.example"},
	{"exact host with query only", "https://good.example?x=1", "https://good.example?x=1"},
	{"exact host with fragment only", "https://good.example#top", "https://good.example#top"},
	{"upper-case scheme and host are lowered", "HTTPS://GOOD.EXAMPLE/App", "https://good.example/App"},
	{"mixed-case scheme", "HtTp://Good.Example/", "http://good.example/"},
	{"subdomain entry allows its root", "https://corp.example/", "https://corp.example/"},
	{"subdomain entry allows deep names", "https://a.b.corp.example/x?y#z", "https://a.b.corp.example/x?y#z"},
	{"underscore label", "https://_svc.corp.example/", "https://_svc.corp.example/"},
	{"explicit port entry", "https://app.example:8443/x", "https://app.example:8443/x"},
	{"any-port entry, low port", "https://anyport.example:1/", "https://anyport.example:1/"},
	{"any-port entry, high port on subdomain", "http://x.anyport.example:65535/", "http://x.anyport.example:65535/"},
	{"any-port entry without port", "https://x.anyport.example/", "https://x.anyport.example/"},
	{"localhost with port", "http://localhost:3000/cb", "http://localhost:3000/cb"},
	{"IPv4 literal with port", "http://127.0.0.1:9000/x", "http://127.0.0.1:9000/x"},
	{"IPv6 literal with port", "http://[::1]:8080/x", "http://[::1]:8080/x"},
	{"IPv6 literal is canonicalized", "http://[0:0:0::1]:8080/", "http://[::1]:8080/"},
	{"absolute path encoding", "https://good.example/caf\u00e9?q=<x>", "https://good.example/caf%C3%A9?q=%3Cx%3E"},
	{"absolute with encoded slash in segment", "https://good.example/a%2Fb", "https://good.example/a%2Fb"},
	{"unicode line separator is encoded", "/a\u2028b", "/a%E2%80%A8b"},
	{"exactly MaxLength bytes", "/" + strings.Repeat("a", MaxLength-1), "/" + strings.Repeat("a", MaxLength-1)},
}

// hostileCases are targets that must be refused, grouped by attack class.
var hostileCases = []struct {
	name string
	in   string
}{
	// Empty and oversized.
	{"empty", ""},
	{"relative over MaxLength", "/" + strings.Repeat("a", MaxLength)},
	{"absolute over MaxLength", "https://good.example/" + strings.Repeat("a", MaxLength)},
	{"grows over MaxLength when encoded", "/" + strings.Repeat("é", 700)},

	// Protocol-relative and backslash (GHSA-qqxw-m5fj-f7gv).
	{"protocol-relative", "//evil.com"},
	{"protocol-relative with path", "//evil.com/path"},
	{"triple slash", "///evil.com"},
	{"quadruple slash", "////evil.com"},
	{"slash backslash", `/\evil.com`},
	{"double backslash", `\\evil.com`},
	{"backslash slash", `\/evil.com`},
	{"slash backslash slash", `/\/evil.com`},
	{"alternating slashes", `/\/\/evil.com/`},
	{"https colon double backslash", `https:\\evil.com`},
	{"https colon slash backslash", `https:/\evil.com`},
	{"backslash before at in authority", `https://good.example\@evil.com`},
	{"backslash ends host early", `https://evil.com\.good.example/`},
	{"backslash after whitelisted host", `https://good.example\evil.com`},
	{"backslash in path", `/a\b`},
	{"encoded backslash", "/%5cevil.com"},
	{"encoded backslash upper-case", "/%5Cevil.com"},
	{"encoded double slash", "/%2f%2fevil.com"},
	{"encoded second slash", "/%2F/evil.com"},
	{"double-encoded double slash", "/%252f%252fevil.com"},
	{"double-encoded backslash", "/%255cevil.com"},
	{"https path with encoded backslash", "https://good.example/%5c%5cevil.com"},

	// Whitespace and control characters (GHSA-j7px-6hwj-hpjg).
	{"tab between slashes", "/\t/evil.com"},
	{"newline between slashes", "/\n/evil.com"},
	{"carriage return between slashes", "/\r/evil.com"},
	{"vertical tab between slashes", "/\v/evil.com"},
	{"tab before backslash", "/\t\\evil.com"},
	{"space between slashes", "/ /evil.com"},
	{"leading space", " /app"},
	{"trailing space", "/app "},
	{"leading tab", "\t/app"},
	{"NUL", "/\x00evil"},
	{"DEL", "/\x7f"},
	{"raw CRLF header injection", "/\r\nSet-Cookie: x=y"},
	{"encoded tab between slashes", "/%09/evil.com"},
	{"encoded newline between slashes", "/%0a/evil.com"},
	{"encoded CRLF header injection", "/%0d%0aSet-Cookie:x=y"},
	{"encoded NUL", "/app%00.html"},
	{"encoded space segment", "/%20/evil.com"},
	{"encoded no-break space segment", "/%C2%A0/evil.com"},
	{"double-encoded tab", "/%2509/evil.com"},
	{"double-encoded newline", "/%250a"},
	{"triple-encoded tab", "/%25252509/evil.com"},
	{"encoded CRLF in query", "/search?q=%0d%0aLocation:%20https://evil.com"},
	{"encoded NUL in fragment", "/a#%00"},
	{"double-encoded NUL in query", "/a?x=%2500"},
	{"encoded tab in host", "https://good.example%09.evil.com/"},
	{"encoded NUL in host", "https://good.example%00.evil.com/"},
	{"encoded space in host", "https://good.example%20/"},
	{"raw tab in host", "https://good.\texample/"},
	{"raw tab in scheme", "ht\ttps://good.example/"},
	{"nested encoding too deep", "/%25252525252525252525252e"},

	// Dot segments (GHSA-5m6c-jp6f-2vcv).
	{"dot then backslash", `/./\evil.com`},
	{"dot dot dot then backslash", `/./../../\evil.com`},
	{"parent at root", "/../evil.com"},
	{"parent in the middle", "/a/../../b"},
	{"current directory", "/a/./b"},
	{"trailing dot segment", "/a/."},
	{"trailing parent segment", "/a/.."},
	{"triple dot segment", "/.../x"},
	{"path-parameter parent (servlet containers)", "/..;/evil.com"},
	{"encoded parent", "/%2e%2e/evil.com"},
	{"encoded parent and slash", "/%2E%2E%2Fevil.com"},
	{"half-encoded parent", "/.%2e/x"},
	{"double-encoded parent", "/%252e%252e/x"},
	{"absolute URL with parent", "https://good.example/../evil"},
	{"absolute URL with encoded parent", "https://good.example/a/%2e%2e/b"},
	{"fullwidth full stops", "/\uff0e\uff0e/evil.com"},
	{"encoded fullwidth full stops", "/%EF%BC%8E%EF%BC%8E/x"},
	{"ideographic full stops", "/\u3002\u3002/x"},
	{"fullwidth solidus", "/\uff0f\uff0fevil.com"},
	{"encoded fullwidth solidus", "/%EF%BC%8Fevil.com"},
	{"division slash", "/\u2215\u2215evil.com"},

	// Empty segments.
	{"empty segment in the middle", "/a//b"},
	{"URL inside the path", "/https://evil.com"},
	{"angle brackets then double slash", "/<>//evil.com"},
	{"absolute URL with empty segment", "https://good.example//evil.com"},
	{"control and slashes after colon segment", "/x:1/:///%01javascript:alert(document.cookie)/"},

	// Userinfo.
	{"userinfo dressed as whitelisted host", "https://good.example@evil.example"},
	{"encoded at sign", "https://good.example%40evil.example"},
	{"double-encoded at sign", "https://good.example%2540evil.example"},
	{"userinfo with port", "https://good.example:443@evil.example"},
	{"empty userinfo", "https://@evil.example"},
	{"userinfo on whitelisted host", "http://user:pass@good.example/"},
	{"encoded at sign after port", "http://good.example:80%40evil.com/"},
	{"ampersand then at", "https://good.example&@evil.com"},
	{"semicolon then at", "https://good.example;@evil.com"},

	// Other schemes.
	{"javascript", "javascript:alert(1)"},
	{"JAVASCRIPT", "JAVASCRIPT:alert(1)"},
	{"mixed-case javascript", "JaVaScRiPt:alert(1)"},
	{"entity-split javascript", "jav&#x09;ascript:alert(1)"},
	{"tab-split javascript", "jav\tascript:alert(1)"},
	{"javascript with fake authority", "javascript://good.example/%0aalert(1)"},
	{"data URL", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
	{"vbscript", "vbscript:msgbox(1)"},
	{"file", "file:///etc/passwd"},
	{"ftp to whitelisted host", "ftp://good.example/"},
	{"websocket to whitelisted host", "wss://good.example/"},
	{"blob", "blob:https://good.example/0b6e"},
	{"encoded scheme", "%68%74%74%70%73://evil.com"},
	{"scheme typo", "httpss://good.example/"},

	// Malformed http(s).
	{"http single slash", "http:/evil.com"},
	{"https no slash", "https:evil.com"},
	{"https single slash", "https:/evil.com"},
	{"https triple slash", "https:///evil.com"},
	{"https quadruple slash", "https:////evil.com"},
	{"http colon double backslash", `http:\\evil.com`},
	{"missing colon", "https//evil.com"},

	// Schemeless hosts and other shapes.
	{"bare host", "evil.com"},
	{"bare host with path", "evil.com/path"},
	{"bare whitelisted host", "good.example/path"},
	{"bare whitelisted www host", "www.whitelisteddomain.tld"},
	{"at host", "@evil.com"},
	{"dot host", ".evil.com"},
	{"bare fragment", "#/evil"},
	{"bare query", "?rd=//evil.com"},
	{"quote and script", `";alert(0);//`},
	{"angle brackets and javascript", "<>javascript:alert(1);"},

	// Host not in the whitelist.
	{"other host", "https://evil.com/"},
	{"suffix without label boundary", "https://badcorp.example/"},
	{"suffix of exact entry without boundary", "https://evilgood.example/"},
	{"whitelisted host as a subdomain of evil", "https://good.example.evil.com/"},
	{"subdomain entry as a subdomain of evil", "https://corp.example.evil.com/"},
	{"subdomain of an exact entry", "https://sub.good.example/"},
	{"trailing dot", "https://good.example./"},
	{"empty label", "https://good..example/"},
	{"leading dot host", "https://.corp.example/"},
	{"over-long label", "https://" + strings.Repeat("a", 64) + ".corp.example/"},
	{"fragment at sign trick", "https://evil.com#@good.example"},
	{"query at sign trick", "https://evil.com?@good.example"},
	{"path at sign trick", "https://evil.com/@good.example"},
	{"bracketed name", "http://[evil.com]/"},
	{"bracket inside name", "http://good.example]/"},

	// Ports.
	{"port on a no-port entry", "https://good.example:8443/"},
	{"default port on a no-port entry", "https://good.example:443/"},
	{"missing required port", "https://app.example/"},
	{"wrong port", "https://app.example:8444/"},
	{"leading-zero port", "https://app.example:08443/"},
	{"empty port", "https://good.example:/"},
	{"port out of range", "https://anyport.example:99999/"},
	{"port zero", "https://anyport.example:0/"},
	{"non-numeric port", "https://anyport.example:https/"},
	{"two ports", "https://anyport.example:1:2/"},
	{"localhost without port", "http://localhost/"},
	{"localhost other port", "http://localhost:3001/"},

	// IP address tricks.
	{"IPv4 without port", "http://127.0.0.1/"},
	{"hex IPv4", "http://0x7f.0.0.1:9000/"},
	{"decimal IPv4", "http://2130706433:9000/"},
	{"short IPv4", "http://127.1:9000/"},
	{"octal IPv4", "http://0177.0.0.1:9000/"},
	{"out-of-range IPv4", "http://472.314.470.462/"},
	{"IPv6 without port", "http://[::1]/"},
	{"IPv6 zone", "http://[fe80::1%25eth0]:8080/"},
	{"IPv6 loopback zone", "http://[::1%25lo]:8080/"},
	{"IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]:9000/"},
	{"IPv4 in brackets", "http://[127.0.0.1]:9000/"},
	{"unbracketed IPv6", "http://::1:8080/"},

	// Non-ASCII and IDN.
	{"encoded ideographic full stop", "https://evil.com%E3%80%82good.example/"},
	{"raw ideographic full stop", "https://evil.com\u3002good.example/"},
	{"fullwidth letters", "https://\uff47\uff4f\uff4f\uff44.example/"},
	{"Cyrillic look-alike", "https://good.exampl\u0435/"},
	{"protocol-relative with encoded full stop", "//evil.com%E3%80%82"},
	{"whitelisted host then encoded full stop", "https://good.example%E3%80%82evil.com/"},
	{"punycode of a look-alike", "https://xn--gd-tma.example/"},

	// Malformed percent-encoding.
	{"bad escape", "/%zz"},
	{"lone percent", "/%"},
	{"truncated escape", "/100%2"},
	{"bad escape in query", "/a?x=%g1"},
	{"lone percent in absolute path", "https://good.example/%"},
}

func TestValidAccepts(t *testing.T) {
	v := newTestValidator(t)
	if len(legitCases) < 25 {
		t.Errorf("legitCases has %d entries, want at least 25", len(legitCases))
	}
	for _, tc := range legitCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Check(tc.in)
			if err != nil {
				t.Fatalf("Check(%q) error: %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			again, ok := v.Valid(got)
			if !ok || again != got {
				t.Errorf("Valid(%q) = %q, %v; want the same string, true", got, again, ok)
			}
		})
	}
}

func TestValidRefusesHostile(t *testing.T) {
	v := newTestValidator(t)
	if len(hostileCases) < 80 {
		t.Errorf("hostileCases has %d entries, want at least 80", len(hostileCases))
	}
	seen := make(map[string]string)
	for _, tc := range hostileCases {
		if prev, dup := seen[tc.in]; dup {
			t.Errorf("hostile input %q listed twice (%q and %q)", tc.in, prev, tc.name)
		}
		seen[tc.in] = tc.name
		t.Run(tc.name, func(t *testing.T) {
			assertRefused(t, v, tc.in)
		})
	}
}

func assertRefused(t *testing.T, v *Validator, rd string) {
	t.Helper()
	got, err := v.Check(rd)
	if err == nil {
		t.Fatalf("Check(%q) = %q, nil; want refusal", rd, got)
	}
	if !errors.Is(err, ErrRefused) {
		t.Errorf("Check(%q) error %v does not wrap ErrRefused", rd, err)
	}
	if got != "" {
		t.Errorf("Check(%q) returned %q with its error, want \"\"", rd, got)
	}
	if out, ok := v.Valid(rd); ok || out != "" {
		t.Errorf("Valid(%q) = %q, %v; want \"\", false", rd, out, ok)
	}
}

// readHostileFile reads testdata/hostile.txt: one hostile input per line.
// Blank lines and lines starting with "#" are skipped; a line starting with
// a double quote is a Go-quoted string (for inputs with control characters,
// leading or trailing spaces, a leading "#", or the empty string).
func readHostileFile(t testing.TB) []string {
	t.Helper()
	f, err := os.Open("testdata/hostile.txt")
	if err != nil {
		t.Fatalf("open hostile corpus: %v", err)
	}
	defer f.Close()
	var inputs []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, `"`):
			s, err := strconv.Unquote(line)
			if err != nil {
				t.Fatalf("testdata/hostile.txt:%d: bad Go-quoted string %s: %v", n, line, err)
			}
			inputs = append(inputs, s)
		default:
			inputs = append(inputs, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read hostile corpus: %v", err)
	}
	return inputs
}

func TestHostileCorpusFile(t *testing.T) {
	v := newTestValidator(t)
	inputs := readHostileFile(t)
	if len(inputs) == 0 {
		t.Fatal("testdata/hostile.txt has no inputs")
	}
	for _, rd := range inputs {
		t.Run(strconv.Quote(rd), func(t *testing.T) {
			assertRefused(t, v, rd)
		})
	}
}

// TestRefusalReasons pins the reason for a few inputs, so a refusal for the
// wrong reason (say, "not in the whitelist" where the host grammar should
// have fired) shows up.
func TestRefusalReasons(t *testing.T) {
	v := newTestValidator(t)
	tests := []struct {
		in   string
		want error
	}{
		{"", errEmpty},
		{"/" + strings.Repeat("a", MaxLength), errTooLong},
		{"/\t/evil.com", errControl},
		{"/%zz", errBadEscape},
		{"javascript:alert(1)", errScheme},
		{"//evil.com", errProtocolRelative},
		{"/%2f%2fevil.com", errProtocolRelative},
		{`/a\b`, errBackslash},
		{"/%09/evil.com", errEncodedControl},
		{"/%252e%252e/x", errDotSegment},
		{"/a//b", errEmptySegment},
		{"/%20/evil.com", errBlankSegment},
		{"/\uff0fevil.com", errSlashLike},
		{"/%25252525252525252525252e", errDeepEncoding},
		{"https:///evil.com", errNoHost},
		{"https://good.example@evil.example", errUserinfo},
		{"https://good.example%40evil.example", errPercentHost},
		{"https://g\u00f6od.example/", errNonASCIIHost},
		{"https://good.example&x/", errHostChar},
		{"http://[::1%25lo]:8080/", errPercentHost},
		{"http://[evil.com]/", errIPv6},
		{"https://good.example:/", errPort},
		{"https://good..example/", errLabel},
		{"https://" + strings.Repeat("a.", 127) + "corp.example/", errHostLength},
		{"http://0x7f.0.0.1:9000/", errIPv4},
		{"https://badcorp.example/", errNotAllowed},
	}
	for _, tc := range tests {
		_, err := v.Check(tc.in)
		if !errors.Is(err, tc.want) {
			t.Errorf("Check(%q) error = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		want    string
	}{
		{"empty", []string{""}, `whitelist domain "": empty entry`},
		{"scheme", []string{"https://example.com"}, `whitelist domain "https://example.com": must be a domain with an optional port, not a URL (drop the scheme)`},
		{"path", []string{"example.com/app"}, `whitelist domain "example.com/app": must be a domain with an optional port, without a path, query or fragment`},
		{"whitespace", []string{" example.com"}, `whitelist domain " example.com": contains whitespace or a control character`},
		{"userinfo", []string{"user@example.com"}, `whitelist domain "user@example.com": userinfo ("@") in authority`},
		{"percent", []string{"example%2ecom"}, `whitelist domain "example%2ecom": percent-encoding in host`},
		{"non-ASCII", []string{"exämple.com"}, `whitelist domain "exämple.com": non-ASCII host (write internationalized names in punycode, xn--…)`},
		{"bad character", []string{"exa!mple.com"}, `whitelist domain "exa!mple.com": invalid character in host`},
		{"empty label", []string{"example..com"}, `whitelist domain "example..com": empty or over-long label in host`},
		{"trailing dot", []string{"example.com."}, `whitelist domain "example.com.": empty or over-long label in host`},
		{"double leading dot", []string{"..example.com"}, `whitelist domain "..example.com": empty or over-long label in host`},
		{"bare dot", []string{"."}, `whitelist domain ".": missing host`},
		{"bare wildcard", []string{"*"}, `whitelist domain "*": "*" is allowed only as a "*." prefix or a ":*" port`},
		{"wildcard in the middle", []string{"a.*.example.com"}, `whitelist domain "a.*.example.com": "*" is allowed only as a "*." prefix or a ":*" port`},
		{"empty port", []string{"example.com:"}, `whitelist domain "example.com:": invalid port (want 1-65535, no leading zero)`},
		{"port zero", []string{"example.com:0"}, `whitelist domain "example.com:0": invalid port (want 1-65535, no leading zero)`},
		{"port too big", []string{"example.com:65536"}, `whitelist domain "example.com:65536": invalid port (want 1-65535, no leading zero)`},
		{"named port", []string{"example.com:https"}, `whitelist domain "example.com:https": invalid port (want 1-65535, no leading zero)`},
		{"port and any port", []string{"example.com:80:*"}, `whitelist domain "example.com:80:*": invalid port (want 1-65535, no leading zero)`},
		{"exotic IPv4", []string{"0x7f.0.0.1"}, `whitelist domain "0x7f.0.0.1": host ends in a number but is not a canonical dotted-quad IPv4 address`},
		{"numeric TLD", []string{"example.123"}, `whitelist domain "example.123": host ends in a number but is not a canonical dotted-quad IPv4 address`},
		{"subdomains of an IP", []string{".10.0.0.1"}, `whitelist domain ".10.0.0.1": a "." or "*." prefix (subdomains) cannot apply to an IP address`},
		{"unbracketed IPv6", []string{"::1"}, `whitelist domain "::1": more than one ":" outside brackets (IPv6 addresses go in "[ ]")`},
		{"IPv6 zone", []string{"[fe80::1%eth0]"}, `whitelist domain "[fe80::1%eth0]": percent-encoding in host`},
		{"over-long label", []string{strings.Repeat("a", 64) + ".com"}, `whitelist domain "` + strings.Repeat("a", 64) + `.com": empty or over-long label in host`},
		{
			"every bad entry is reported",
			[]string{"good.example", "", "https://x.example", ".ok.example:*", "bad..example"},
			`whitelist domain "": empty entry` + "\n" +
				`whitelist domain "https://x.example": must be a domain with an optional port, not a URL (drop the scheme)` + "\n" +
				`whitelist domain "bad..example": empty or over-long label in host`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New(tc.entries)
			if err == nil {
				t.Fatalf("New(%q) = %v, nil; want error", tc.entries, v)
			}
			if v != nil {
				t.Errorf("New(%q) returned a Validator with its error", tc.entries)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("New(%q) error mismatch (-want +got):\n%s", tc.entries, diff)
			}
			var entryErr *EntryError
			if !errors.As(err, &entryErr) {
				t.Errorf("New(%q) error %v is not an *EntryError", tc.entries, err)
			}
		})
	}
}

// TestWhitelistSemantics pins how entries match hosts and ports.
func TestWhitelistSemantics(t *testing.T) {
	tests := []struct {
		entry string
		rd    string
		want  bool
	}{
		{"example.com", "https://example.com/", true},
		{"example.com", "https://EXAMPLE.com/", true},
		{"Example.COM", "https://example.com/", true},
		{"example.com", "https://a.example.com/", false},
		{"example.com", "https://example.com:443/", false},
		{"example.com", "http://example.com:80/", false},
		{".example.com", "https://example.com/", true},
		{".example.com", "https://a.example.com/", true},
		{".example.com", "https://a.b.example.com/", true},
		{".example.com", "https://badexample.com/", false},
		{".example.com", "https://example.com.evil.com/", false},
		{".example.com", "https://a.example.com:8443/", false},
		{"*.example.com", "https://example.com/", true},
		{"*.example.com", "https://a.example.com/", true},
		{"*.example.com", "https://badexample.com/", false},
		{"example.com:8443", "https://example.com:8443/", true},
		{"example.com:8443", "https://example.com/", false},
		{"example.com:8443", "https://example.com:8444/", false},
		{"example.com:*", "https://example.com/", true},
		{"example.com:*", "https://example.com:1/", true},
		{"example.com:*", "https://a.example.com:1/", false},
		{".example.com:*", "https://a.example.com:9999/", true},
		{".example.com:*", "https://example.com:9999/", true},
		{"localhost:3000", "http://localhost:3000/", true},
		{"localhost:3000", "http://localhost/", false},
		{".localhost:3000", "http://app.localhost:3000/", true},
		{".localhost:3000", "http://localhost:3000/", true},
		{".localhost:3000", "http://app.localhost:3001/", false},
		{"10.0.0.1", "http://10.0.0.1/", true},
		{"10.0.0.1", "http://a.10.0.0.1/", false},
		{"[2001:db8::1]:443", "https://[2001:DB8:0::1]:443/", true},
		{"[2001:DB8:0::1]", "https://[2001:db8::1]/", true},
		{".com", "https://anything.com/", true}, // legal, and as broad as it looks
	}
	for _, tc := range tests {
		v, err := New([]string{tc.entry})
		if err != nil {
			t.Fatalf("New(%q) error: %v", tc.entry, err)
		}
		if _, got := v.Valid(tc.rd); got != tc.want {
			t.Errorf("with entry %q: Valid(%q) ok = %v, want %v", tc.entry, tc.rd, got, tc.want)
		}
	}
}

func TestEntriesMerge(t *testing.T) {
	v, err := New([]string{"example.com", "example.com:8443", ".example.com:9000"})
	if err != nil {
		t.Fatalf("New error: %v", err)
	}
	for rd, want := range map[string]bool{
		"https://example.com/":        true,
		"https://example.com:8443/":   true,
		"https://example.com:9000/":   true,
		"https://a.example.com:9000/": true,
		"https://a.example.com/":      false,
		"https://a.example.com:8443/": false,
	} {
		if _, got := v.Valid(rd); got != want {
			t.Errorf("Valid(%q) ok = %v, want %v", rd, got, want)
		}
	}
}

func TestZeroAndEmptyValidator(t *testing.T) {
	empty, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) error: %v", err)
	}
	for name, v := range map[string]*Validator{"zero": {}, "New(nil)": empty} {
		if got, ok := v.Valid("/app?x=1"); !ok || got != "/app?x=1" {
			t.Errorf("%s: Valid(%q) = %q, %v; want the path, true", name, "/app?x=1", got, ok)
		}
		if got, ok := v.Valid("https://example.com/"); ok {
			t.Errorf("%s: Valid(%q) = %q, true; want refusal", name, "https://example.com/", got)
		}
	}
}

func TestCheckErrorOmitsInput(t *testing.T) {
	v := newTestValidator(t)
	const rd = "https://secret-token.evil.example/"
	_, err := v.Check(rd)
	if err == nil || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("Check(%q) error = %v; want a refusal that does not echo the input", rd, err)
	}
}

// TestConcurrentUse runs under -race to show a Validator is safe to share.
func TestConcurrentUse(t *testing.T) {
	v := newTestValidator(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, tc := range legitCases {
				if _, ok := v.Valid(tc.in); !ok {
					t.Errorf("Valid(%q) refused", tc.in)
				}
			}
			for _, tc := range hostileCases {
				if _, ok := v.Valid(tc.in); ok {
					t.Errorf("Valid(%q) accepted", tc.in)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkValid(b *testing.B) {
	v := newTestValidator(b)
	for _, bc := range []struct{ name, rd string }{
		{"relative", "/app/dashboard/settings?tab=profile&lang=en#security"},
		{"absolute", "https://grafana.corp.example/d/abc123/overview?orgId=1&from=now-6h"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := v.Valid(bc.rd); !ok {
					b.Fatalf("Valid(%q) refused", bc.rd)
				}
			}
		})
	}
	// The worst case an attacker can buy with one request: MaxLength bytes
	// of nested percent-encoding, decoded maxDecodeDepth times.
	worst := "/?x=" + strings.Repeat("%2525252525252541", (MaxLength-4)/17)
	b.Run("worst-case-query", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v.Valid(worst)
		}
	})
}
