package idp

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// scopeGroups asks for the groups claim.
const scopeGroups = "groups"

// client is a registered application, as the token library sees it. It
// does not change after newClients.
type client struct {
	id             string
	secret         [32]byte // SHA-256 of the secret, compared in constant time
	public         bool
	redirectURIs   []string
	postLogoutURIs []string
	loginPath      string // the login page, before "?authRequestID="
}

var _ op.Client = (*client)(nil)

// newClients checks the clients, reporting every problem. base is the
// issuer's path, where the login page lives.
func newClients(clients []Client, base string) (map[string]*client, error) {
	out := map[string]*client{}
	var errs []error
	add := func(i int, c Client, format string, a ...any) {
		errs = append(errs, fmt.Errorf("clients[%d] (%s): %s", i, c.ID, fmt.Sprintf(format, a...)))
	}
	if len(clients) == 0 {
		errs = append(errs, errors.New("clients: none listed; add at least one client with id and redirect_uris"))
	}
	for i, c := range clients {
		if c.ID == "" || strings.ContainsAny(c.ID, " \t\r\n") {
			add(i, c, "id %q: want a client_id without spaces, such as gatehouse", c.ID)
			continue
		}
		if out[c.ID] != nil {
			add(i, c, "id is listed twice")
			continue
		}
		if len(c.RedirectURIs) == 0 {
			add(i, c, "redirect_uris: none listed; add the application's callback URL, such as http://localhost:8080/oauth2/callback")
		}
		for _, u := range c.RedirectURIs {
			if err := checkRedirectURI(u); err != nil {
				add(i, c, "redirect_uris: %q %v", u, err)
			}
		}
		for _, u := range c.PostLogoutRedirectURIs {
			if err := checkRedirectURI(u); err != nil {
				add(i, c, "post_logout_redirect_uris: %q %v", u, err)
			}
		}
		out[c.ID] = &client{
			id:             c.ID,
			secret:         sha256.Sum256([]byte(c.Secret)),
			public:         c.Secret == "",
			redirectURIs:   slices.Clone(c.RedirectURIs),
			postLogoutURIs: slices.Clone(c.PostLogoutRedirectURIs),
			loginPath:      base + "/login",
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// checkRedirectURI accepts an absolute URL without a fragment (RFC 6749
// section 3.1.2). Custom schemes (com.example.app:/cb) are for native apps.
// It must also be safe to name in the login page's Content-Security-Policy.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return errors.New("is not an absolute URL such as http://localhost:8080/oauth2/callback")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errors.New("must not have a #fragment")
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		return errors.New("has no host")
	}
	if strings.ContainsAny(s, " \t\r\n;,'\"") {
		return errors.New("must not contain spaces, quotes, commas or semicolons")
	}
	return nil
}

// checkSecret compares a presented secret in constant time.
func (c *client) checkSecret(secret string) bool {
	got := sha256.Sum256([]byte(secret))
	return !c.public && subtle.ConstantTimeCompare(got[:], c.secret[:]) == 1
}

func (c *client) GetID() string                    { return c.id }
func (c *client) RedirectURIs() []string           { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.postLogoutURIs }

// ApplicationType is web (confidential) or native (public, PKCE).
func (c *client) ApplicationType() op.ApplicationType {
	if c.public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic // client_secret_post works too (op.Config.AuthMethodPost)
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) LoginURL(authRequestID string) string {
	return c.loginPath + "?authRequestID=" + url.QueryEscape(authRequestID)
}

func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return IDTokenLifetime }

// DevMode lifts the library's scheme rules for redirect URIs (http for
// public clients). Gatehouse compares redirect URIs exactly before the
// library sees a request (authorize.go), which is the rule that matters.
func (c *client) DevMode() bool { return true }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// IsScopeAllowed admits "groups" beside the standard scopes.
func (c *client) IsScopeAllowed(scope string) bool { return scope == scopeGroups }

// IDTokenUserinfoClaimsAssertion puts the email and profile claims in the
// ID token even though an access token is issued too, so that a gateway
// reading only the ID token sees them.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
