package gateway

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"gatehouse/internal/session"
)

// TestPolicyEmailAllowed checks who may sign in by email domain and by
// exact address, including the malformed addresses that could make a
// domain check lie.
func TestPolicyEmailAllowed(t *testing.T) {
	tests := []struct {
		name    string
		domains []string
		emails  []string // AuthenticatedEmails
		email   string
		want    bool
	}{
		{"any domain", []string{"*"}, nil, "someone@anywhere.example", true},
		{"any domain still needs a well-formed address", []string{"*"}, nil, "a@b@c.example", false},
		{"any domain refuses an empty address", []string{"*"}, nil, "", false},

		{"exact domain", []string{"example.com"}, nil, "alice@example.com", true},
		{"exact domain, upper-case address", []string{"example.com"}, nil, "Alice@EXAMPLE.COM", true},
		{"exact domain, upper-case setting", []string{"Example.COM"}, nil, "alice@example.com", true},
		{"exact domain with @ prefix", []string{"@example.com"}, nil, "alice@example.com", true},
		{"exact domain with white space", []string{" example.com "}, nil, "alice@example.com", true},
		{"exact domain refuses a subdomain", []string{"example.com"}, nil, "alice@sub.example.com", false},
		{"exact domain refuses a look-alike", []string{"example.com"}, nil, "alice@badexample.com", false},
		{"exact domain refuses a longer domain", []string{"example.com"}, nil, "alice@example.com.evil.com", false},
		{"second of several domains", []string{"corp.example", "example.com"}, nil, "bob@example.com", true},
		{"none of several domains", []string{"corp.example", "example.com"}, nil, "bob@example.org", false},

		{"subdomain form allows a subdomain", []string{".example.com"}, nil, "alice@sub.example.com", true},
		{"subdomain form allows a deep subdomain", []string{".example.com"}, nil, "alice@a.b.example.com", true},
		{"subdomain form refuses badexample.com", []string{".example.com"}, nil, "alice@badexample.com", false},
		{"subdomain form refuses a suffix trick", []string{".example.com"}, nil, "alice@sub.example.com.evil.com", false},

		{"two @ refused (CVE-2026-40574)", []string{"example.com"}, nil, "attacker@evil.com@example.com", false},
		{"two @ refused, subdomain form", []string{".example.com"}, nil, "attacker@evil.com@sub.example.com", false},
		{"two @ refused, any domain", []string{"*"}, nil, "attacker@evil.com@example.com", false},
		{"no @", []string{"example.com"}, nil, "example.com", false},
		{"empty local part", []string{"example.com"}, nil, "@example.com", false},
		{"empty domain", []string{"*"}, nil, "alice@", false},
		{"domain starting with a dot", []string{".example.com"}, nil, "alice@.example.com", false},
		{"domain ending with a dot", []string{"*"}, nil, "alice@example.com.", false},
		{"quoted local part", []string{"example.com"}, nil, `"attacker@evil.com"@example.com`, false},
		{"quote without second @", []string{"example.com"}, nil, `"alice"@example.com`, false},
		{"backslash", []string{"example.com"}, nil, `alice\@example.com`, false},
		{"comma list", []string{"example.com"}, nil, "attacker@evil.com,alice@example.com", false},
		{"angle brackets", []string{"example.com"}, nil, "<alice@example.com>", false},
		{"space", []string{"example.com"}, nil, "alice @example.com", false},
		{"NUL byte", []string{"example.com"}, nil, "attacker@evil.com\x00@example.com", false},
		{"NUL byte after the domain", []string{"example.com"}, nil, "alice@example.com\x00", false},
		{"newline", []string{"example.com"}, nil, "alice@example.com\nX-Forwarded-User: admin", false},
		{"carriage return", []string{"example.com"}, nil, "alice\r@example.com", false},
		{"tab", []string{"example.com"}, nil, "alice\t@example.com", false},
		{"DEL", []string{"example.com"}, nil, "alice\x7f@example.com", false},
		{"too long", []string{"example.com"}, nil, strings.Repeat("a", 320) + "@example.com", false},

		{"authenticated email", nil, []string{"alice@example.org"}, "alice@example.org", true},
		{"authenticated email, case-insensitive", nil, []string{"Alice@Example.ORG"}, "ALICE@example.org", true},
		{"authenticated email, white space in the list", nil, []string{"  alice@example.org  "}, "alice@example.org", true},
		{"authenticated email is exact", nil, []string{"alice@example.org"}, "bob@example.org", false},
		{"authenticated email does not allow its domain", nil, []string{"alice@example.org"}, "alice@sub.example.org", false},
		{"authenticated email beside domains", []string{"example.com"}, []string{"carol@partner.example"}, "carol@partner.example", true},
		{"authenticated email must still be well formed", nil, []string{"a@b@example.org"}, "a@b@example.org", false},
		{"nothing configured", nil, nil, "alice@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPolicy(&Config{EmailDomains: tt.domains, AuthenticatedEmails: tt.emails})
			if got := p.emailAllowed(tt.email); got != tt.want {
				t.Errorf("emailAllowed(%q) with domains %q, emails %q = %v, want %v", tt.email, tt.domains, tt.emails, got, tt.want)
			}
		})
	}
}

// TestPolicyAllow checks the whole sign-in decision: verified email,
// well-formed address, allowed domain, allowed group — and which reason a
// refusal gives.
func TestPolicyAllow(t *testing.T) {
	tests := []struct {
		name     string
		cfg      Config
		email    string
		verified bool
		groups   []string
		want     error
	}{
		{
			name:     "verified email in the domain",
			cfg:      Config{EmailDomains: []string{"example.com"}},
			email:    "alice@example.com",
			verified: true,
		},
		{
			name:  "unverified email refused",
			cfg:   Config{EmailDomains: []string{"example.com"}},
			email: "alice@example.com",
			want:  errUnverifiedEmail,
		},
		{
			name:  "unverified email refused even for any domain",
			cfg:   Config{EmailDomains: []string{"*"}},
			email: "alice@example.com",
			want:  errUnverifiedEmail,
		},
		{
			name:  "unverified email allowed when configured",
			cfg:   Config{EmailDomains: []string{"example.com"}, InsecureAllowUnverifiedEmail: true},
			email: "alice@example.com",
		},
		{
			name:  "unverified allowed still checks the domain",
			cfg:   Config{EmailDomains: []string{"example.com"}, InsecureAllowUnverifiedEmail: true},
			email: "alice@example.org",
			want:  errEmailNotAllowed,
		},
		{
			name:     "two @ is a bad email (CVE-2026-40574)",
			cfg:      Config{EmailDomains: []string{"example.com"}},
			email:    "attacker@evil.com@example.com",
			verified: true,
			want:     errBadEmail,
		},
		{
			name:     "empty local part is a bad email",
			cfg:      Config{EmailDomains: []string{"example.com"}},
			email:    "@example.com",
			verified: true,
			want:     errBadEmail,
		},
		{
			name:     "no email is a bad email",
			cfg:      Config{EmailDomains: []string{"*"}},
			email:    "",
			verified: true,
			want:     errBadEmail,
		},
		{
			name:     "control character is a bad email",
			cfg:      Config{EmailDomains: []string{"*"}},
			email:    "alice@example.com\r\n",
			verified: true,
			want:     errBadEmail,
		},
		{
			name:     "other domain not allowed",
			cfg:      Config{EmailDomains: []string{"example.com"}},
			email:    "alice@badexample.com",
			verified: true,
			want:     errEmailNotAllowed,
		},
		{
			name:     "in an allowed group",
			cfg:      Config{EmailDomains: []string{"*"}, AllowedGroups: []string{"admins", "devs"}},
			email:    "alice@example.com",
			verified: true,
			groups:   []string{"users", "devs"},
		},
		{
			name:     "in no allowed group",
			cfg:      Config{EmailDomains: []string{"*"}, AllowedGroups: []string{"admins"}},
			email:    "alice@example.com",
			verified: true,
			groups:   []string{"users", "Admins"},
			want:     errGroupNotAllowed,
		},
		{
			name:     "no groups at all",
			cfg:      Config{EmailDomains: []string{"*"}, AllowedGroups: []string{"admins"}},
			email:    "alice@example.com",
			verified: true,
			want:     errGroupNotAllowed,
		},
		{
			name:     "groups checked after the email",
			cfg:      Config{EmailDomains: []string{"example.com"}, AllowedGroups: []string{"admins"}},
			email:    "alice@example.org",
			verified: true,
			groups:   []string{"admins"},
			want:     errEmailNotAllowed,
		},
		{
			name:     "authenticated email with a group",
			cfg:      Config{AuthenticatedEmails: []string{"alice@example.org"}, AllowedGroups: []string{"admins"}},
			email:    "Alice@Example.org",
			verified: true,
			groups:   []string{"admins"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			err := newPolicy(&cfg).allow(tt.email, tt.verified, tt.groups)
			if !errors.Is(err, tt.want) {
				t.Errorf("allow(%q, %v, %q) = %v, want %v", tt.email, tt.verified, tt.groups, err, tt.want)
			}
		})
	}
}

// TestAllowedByQuery checks oauth2-proxy's per-location restrictions on
// /oauth2/auth (nginx: auth_request /oauth2/auth?allowed_groups=admins).
func TestAllowedByQuery(t *testing.T) {
	alice := &session.Session{User: "alice", Email: "Alice@Example.com", Groups: []string{"devs", "users"}}
	tests := []struct {
		name  string
		query string
		s     *session.Session
		want  bool
	}{
		{"no restrictions", "", alice, true},
		{"unrelated parameters", "?rd=/x&foo=bar", alice, true},
		{"empty lists are no restriction", "?allowed_groups=&allowed_emails=&allowed_email_domains=", alice, true},

		{"in an allowed group", "?allowed_groups=admins,devs", alice, true},
		{"in an allowed group, spaces around", "?allowed_groups=admins,%20devs%20", alice, true},
		{"in no allowed group", "?allowed_groups=admins,ops", alice, false},
		{"groups are case-sensitive", "?allowed_groups=DEVS", alice, false},
		{"no groups", "?allowed_groups=admins", &session.Session{Email: "bob@example.com"}, false},

		{"allowed email, case-insensitive", "?allowed_emails=bob@example.com,alice@example.com", alice, true},
		{"email not allowed", "?allowed_emails=bob@example.com", alice, false},
		{"email list does not match a domain", "?allowed_emails=example.com", alice, false},

		{"allowed email domain", "?allowed_email_domains=example.org,example.com", alice, true},
		{"allowed email domain, any", "?allowed_email_domains=*", alice, true},
		{"allowed email subdomain form", "?allowed_email_domains=.example.com", &session.Session{Email: "carol@eu.example.com"}, true},
		{"subdomain form refuses badexample.com", "?allowed_email_domains=.example.com", &session.Session{Email: "carol@badexample.com"}, false},
		{"email domain not allowed", "?allowed_email_domains=example.org", alice, false},
		{"email domain, two @ refused", "?allowed_email_domains=example.com", &session.Session{Email: "attacker@evil.com@example.com"}, false},
		{"email domain, no email", "?allowed_email_domains=example.com", &session.Session{User: "svc"}, false},

		{"all three satisfied", "?allowed_groups=devs&allowed_emails=alice@example.com&allowed_email_domains=example.com", alice, true},
		{"group fails, others pass", "?allowed_groups=admins&allowed_emails=alice@example.com&allowed_email_domains=example.com", alice, false},
		{"email fails, others pass", "?allowed_groups=devs&allowed_emails=bob@example.com&allowed_email_domains=example.com", alice, false},
		{"domain fails, others pass", "?allowed_groups=devs&allowed_emails=alice@example.com&allowed_email_domains=example.org", alice, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/oauth2/auth"+tt.query, nil)
			if got := allowedByQuery(r, tt.s); got != tt.want {
				t.Errorf("allowedByQuery(%q, %+v) = %v, want %v", tt.query, tt.s, got, tt.want)
			}
		})
	}
}

// TestPolicyWildcardSubdomainForm checks oauth2-proxy's other spelling of
// the subdomain form, "*.example.com" (validator.go's
// isEmailValidWithDomains accepts both "." and "*." prefixes, for
// --email-domain and for allowed_email_domains alike).
func TestPolicyWildcardSubdomainForm(t *testing.T) {
	tests := []struct {
		email string
		want  bool
	}{
		{"alice@sub.example.com", true},
		{"alice@a.b.example.com", true},
		{"alice@badexample.com", false},
		{"attacker@evil.com@sub.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			p := newPolicy(&Config{EmailDomains: []string{"*.example.com"}})
			if got := p.emailAllowed(tt.email); got != tt.want {
				t.Errorf("emailAllowed(%q) with domain *.example.com = %v, want %v", tt.email, got, tt.want)
			}
			r := httptest.NewRequest("GET", "/oauth2/auth?allowed_email_domains=*.example.com", nil)
			if got := allowedByQuery(r, &session.Session{Email: tt.email}); got != tt.want {
				t.Errorf("allowedByQuery(allowed_email_domains=*.example.com, %q) = %v, want %v", tt.email, got, tt.want)
			}
		})
	}
}
