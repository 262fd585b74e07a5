package gateway

import (
	"errors"
	"slices"
	"strings"
)

// policy decides who may sign in: email domains, exact addresses, groups.
type policy struct {
	domains domainRule
	emails  map[string]bool
	groups  []string
	unverOK bool
}

func newPolicy(c *Config) *policy {
	p := &policy{domains: parseDomains(c.EmailDomains), emails: map[string]bool{}, groups: c.AllowedGroups, unverOK: c.InsecureAllowUnverifiedEmail}
	for _, e := range c.AuthenticatedEmails {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			p.emails[e] = true
		}
	}
	return p
}

// domainRule is a list of email domains: "*" allows all; ".example.com"
// (or oauth2-proxy's "*.example.com") allows example.com's subdomains.
type domainRule struct {
	any     bool
	domains []string // lower-case, without "@"
}

func parseDomains(list []string) domainRule {
	var r domainRule
	for _, d := range list {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "*" {
			r.any = true
			continue
		}
		d = strings.TrimPrefix(d, "@")
		d = strings.TrimPrefix(d, "*") // "*.example.com" is oauth2-proxy's spelling of ".example.com"
		if d != "" {
			r.domains = append(r.domains, d)
		}
	}
	return r
}

// allows reports whether a well-formed email's domain is allowed.
func (r domainRule) allows(email string) bool {
	if !wellFormedEmail(email) {
		return false
	}
	if r.any {
		return true
	}
	_, domain, _ := strings.Cut(strings.ToLower(email), "@")
	for _, d := range r.domains {
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
	return wellFormedEmail(email) && (p.emails[strings.ToLower(email)] || p.domains.allows(email))
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
