package idp

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"golang.org/x/crypto/bcrypt"
)

// directory holds the accounts, by email and by subject. It does not
// change after newDirectory.
type directory struct {
	byEmail   map[string]*account
	bySubject map[string]*account
	// dummy is compared when the email is unknown, so that an unknown
	// account takes as long to refuse as a wrong password.
	dummy []byte
}

// account is a user ready for sign-in: the password only as a bcrypt hash.
type account struct {
	subject  string
	email    string
	name     string
	username string
	groups   []string
	hash     []byte
}

var (
	errUnknownAccount = errors.New("no such account")
	errWrongPassword  = errors.New("wrong password")
)

// newDirectory checks the users, reporting every problem, and hashes
// plain passwords (bcrypt's minimum cost: they are in the configuration in
// clear text anyway, and the hash only keeps them out of memory).
func newDirectory(users []User) (*directory, error) {
	d := &directory{byEmail: map[string]*account{}, bySubject: map[string]*account{}}
	var errs []error
	add := func(i int, u User, format string, a ...any) {
		errs = append(errs, fmt.Errorf("users[%d] (%s): %s", i, u.Email, fmt.Sprintf(format, a...)))
	}
	if len(users) == 0 {
		errs = append(errs, errors.New("users: none listed; add at least one user with email and password"))
	}
	maxCost := bcrypt.MinCost
	for i, u := range users {
		email := strings.TrimSpace(u.Email)
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email || a.Name != "" {
			add(i, u, "email %q is not an email address such as alice@example.com", u.Email)
			continue
		}
		key := strings.ToLower(email)
		if d.byEmail[key] != nil {
			add(i, u, "email is listed twice; each user needs their own address")
			continue
		}
		acct := &account{
			subject:  subjectFor(key),
			email:    email,
			name:     strings.TrimSpace(u.Name),
			username: email[:strings.LastIndex(email, "@")],
		}
		if acct.name == "" {
			acct.name = acct.username
		}
		switch {
		case u.Password != "" && u.PasswordHash != "":
			add(i, u, "set password or password_hash, not both")
		case u.Password != "":
			h, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
			if err != nil {
				add(i, u, "password: %v (at most 72 bytes)", err)
			}
			acct.hash = h
		case u.PasswordHash != "":
			cost, err := bcrypt.Cost([]byte(u.PasswordHash))
			if err != nil {
				add(i, u, "password_hash is not a bcrypt hash (%v); make one with: htpasswd -bnBC 10 \"\" 'PASSWORD' | tr -d ':\\n' — or set password instead", err)
			}
			maxCost = max(maxCost, cost)
			acct.hash = []byte(u.PasswordHash)
		default:
			add(i, u, "set password (plain, for local use) or password_hash (bcrypt)")
		}
		for _, g := range u.Groups {
			if g == "" || strings.ContainsAny(g, ",\r\n\t") || len(g) > 256 {
				add(i, u, "group %q: want a non-empty name without commas or control characters (groups travel in comma-separated headers)", g)
			}
		}
		acct.groups = append([]string{}, u.Groups...)
		d.byEmail[key] = acct
		d.bySubject[acct.subject] = acct
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d.dummy, _ = bcrypt.GenerateFromPassword([]byte("no account has this password"), maxCost)
	return d, nil
}

// subjectFor derives the sub claim from the email: stable across restarts
// and configuration changes, opaque so that applications key on sub
// rather than learn to parse it, and free of ':' (the token library
// splits on it).
func subjectFor(email string) string {
	sum := sha256.Sum256([]byte("gatehouse idp subject\x00" + email))
	return hex.EncodeToString(sum[:16])
}

// normalizeEmail is how a typed email is looked up and rate limited.
func normalizeEmail(email string) string {
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > 254 {
		email = email[:254]
	}
	return email
}

// authenticate checks a password. It returns the account also for a
// wrong password (so the caller can log whose), and errUnknownAccount
// after spending the same bcrypt time when there is none.
func (d *directory) authenticate(email, password string) (*account, error) {
	a := d.byEmail[normalizeEmail(email)]
	if a == nil {
		bcrypt.CompareHashAndPassword(d.dummy, []byte(password))
		return nil, errUnknownAccount
	}
	if bcrypt.CompareHashAndPassword(a.hash, []byte(password)) != nil {
		return a, errWrongPassword
	}
	return a, nil
}

// claims fills info with the user's claims for scopes (see the package
// documentation for which scope brings which claim).
func (d *directory) claims(info *oidc.UserInfo, subject string, scopes []string) error {
	a := d.bySubject[subject]
	if a == nil {
		return errors.New("user no longer exists")
	}
	info.Subject = a.subject
	email, profile := slices.Contains(scopes, oidc.ScopeEmail), slices.Contains(scopes, oidc.ScopeProfile)
	if email {
		info.Email = a.email
		info.EmailVerified = true
	}
	if profile {
		info.Name = a.name
		info.PreferredUsername = a.username
	}
	if email || profile || slices.Contains(scopes, scopeGroups) {
		info.AppendClaims("groups", slices.Clone(a.groups))
	}
	return nil
}
