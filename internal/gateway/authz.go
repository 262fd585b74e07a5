package gateway

import (
	"errors"
	"slices"
	"strings"
)

// policy decides who may sign in: email domains, exact addresses, groups.
type policy struct {
	anyDomain bool
	domains   []string // lower-case, without "@"; ".example.com" also allows subdomains
	emails    map[string]bool
	groups    []string
	unverOK   bool
}

func newPolicy(c *Config) *policy {
	p := &policy{emails: map[string]bool{}, groups: c.AllowedGroups, unverOK: c.InsecureAllowUnverifiedEmail}
	for _, d := range c.EmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "*" {
			p.anyDomain = true
			continue
		}
		d = strings.TrimPrefix(d, "@")
		d = strings.TrimPrefix(d, "*") // "*.example.com" is oauth2-proxy's spelling of ".example.com"
		if d != "" {
			p.domains = append(p.domains, d)
		}
	}
	for _, e := range c.AuthenticatedEmails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			p.emails[e] = true
		}
	}
	return p
}

// Reasons a user is refused; they are logged and shown, never secrets.
var (
	errUnverifiedEmail = errors.New("the provider has not verified this email address")
	errBadEmail        = errors.New("the email address is not a single well-formed address")
	errEmailNotAllowed = errors.New("this email address is not allowed to sign in")
	errGroupNotAllowed = errors.New("you are not in a group that is allowed to sign in")
)

// allow decides whether a signed-in identity may have a session.
func (p *policy) allow(email string, verified bool, groups []string) error {
	if !verified && !p.unverOK {
		return errUnverifiedEmail
	}
	if !p.emailAllowed(email) {
		if !wellFormedEmail(email) {
			return errBadEmail
		}
		return errEmailNotAllowed
	}
	if len(p.groups) > 0 && !anyShared(p.groups, groups) {
		return errGroupNotAllowed
	}
	return nil
}

func (p *policy) emailAllowed(email string) bool {
	if !wellFormedEmail(email) {
		return false
	}
	email = strings.ToLower(email)
	if p.emails[email] {
		return true
	}
	if p.anyDomain {
		return true
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range p.domains {
		if domain == d {
			return true
		}
		// ".example.com" allows sub.example.com, never badexample.com.
		if strings.HasPrefix(d, ".") && strings.HasSuffix(domain, d) {
			return true
		}
	}
	return false
}

// wellFormedEmail refuses what could make a domain check lie: more than
// one "@" (CVE-2026-40574: "a@evil.com@good.com"), an empty local part or
// domain, white space and control characters.
func wellFormedEmail(email string) bool {
	if strings.Count(email, "@") != 1 || len(email) > 320 {
		return false
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return false
	}
	for _, r := range email {
		if r <= ' ' || r == 0x7f || r == '"' || r == '\\' || r == ',' || r == ';' || r == '<' || r == '>' {
			return false
		}
	}
	// The domain is a plain host name, so a domain rule cannot be fooled
	// by "evil.com/x.example.com" or a fullwidth at sign.
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return !strings.Contains(domain, "..")
}

func anyShared(want, have []string) bool {
	for _, g := range have {
		if slices.Contains(want, g) {
			return true
		}
	}
	return false
}

// splitList splits oauth2-proxy's comma-separated query lists
// (allowed_groups=a,b).
func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
