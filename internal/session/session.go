// Package session is the gateway's login session: the Session value, its
// sealing into a cookie-safe string (Codec), the splitting of that string
// across cookies (CookieConfig), and the Store interface with its cookie
// implementation (CookieStore). A server-side store (redisstore) keeps the
// Session elsewhere and puts only a random ticket in the cookie; it
// implements the same Store interface and passes the same conformance suite
// (sessiontest).
//
// Nothing here logs, and no error text carries a token, a cookie value or a
// secret.
package session

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"
)

// Store keeps sessions between requests. The gateway holds one Store;
// CookieStore keeps the whole session in the browser, a server-side store
// keeps it elsewhere behind a ticket cookie.
type Store interface {
	// Save persists s and writes whatever cookies carry it. It also expires
	// any cookie of an earlier session that the new ones do not overwrite.
	Save(w http.ResponseWriter, r *http.Request, s *Session) error
	// Load returns the request's session, or an error that matches
	// ErrNoSession (errors.Is) when there is no cookie or the cookie does not
	// open: tampered, expired by --cookie-expire, or sealed under an unknown
	// key. Other errors mean the store failed (a server-side store's backend
	// is down), not that the user is signed out.
	//
	// The returned Session may be shared with other requests: treat it as
	// immutable, and Clone it before changing it.
	Load(r *http.Request) (*Session, error)
	// Clear removes the session and expires its cookies.
	Clear(w http.ResponseWriter, r *http.Request) error
}

// Errors of Load and Codec.Open. Each of ErrExpired and ErrInvalid matches
// ErrNoSession with errors.Is: to the gateway all three mean "sign in
// again"; the finer ones are for metrics and debugging.
var (
	// ErrNoSession means the request carries no usable session.
	ErrNoSession = errors.New("no session")
	// ErrExpired means the session's cookie was issued longer ago than the
	// cookie expiry (--cookie-expire) allows.
	ErrExpired = fmt.Errorf("%w: cookie expired", ErrNoSession)
	// ErrInvalid means a session cookie is present but does not open: it was
	// tampered with, truncated, sealed for another cookie name, or sealed
	// under a key this server does not hold.
	ErrInvalid = fmt.Errorf("%w: cookie does not open", ErrNoSession)
)

// Session is one signed-in user's state, as the gateway learned it from the
// identity provider.
//
// A Session returned by Load or Codec.Open may be shared between concurrent
// requests (the Codec caches opened sessions), so callers must not modify it
// or its Groups: Clone it, change the copy, and Save the copy.
type Session struct {
	// ID is a random identifier of this session (see NewID), stable across
	// token refreshes. It lets the gateway de-duplicate concurrent refreshes
	// of the same session and correlate log lines without logging tokens.
	ID string

	User              string // the subject (sub claim)
	Email             string
	PreferredUsername string
	Groups            []string

	IDToken      string
	AccessToken  string
	RefreshToken string

	CreatedAt   time.Time // when the user signed in
	ExpiresOn   time.Time // when the access token expires; zero if unknown
	RefreshedAt time.Time // when the tokens were last refreshed; zero if never
}

// NewID returns a new random session ID: 128 bits from r, base64url-encoded
// (22 characters). A nil r means crypto/rand.
func NewID(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// IsExpired reports whether the access token has expired at now. A session
// without a known expiry (zero ExpiresOn) never expires this way; the cookie
// expiry still bounds it.
func (s *Session) IsExpired(now time.Time) bool {
	return !s.ExpiresOn.IsZero() && s.ExpiresOn.Before(now)
}

// Age returns how long ago the user signed in, or 0 when CreatedAt is unset.
func (s *Session) Age(now time.Time) time.Duration {
	if s.CreatedAt.IsZero() {
		return 0
	}
	return now.Sub(s.CreatedAt)
}

// Clone returns a deep copy of s that the caller may change.
func (s *Session) Clone() *Session {
	c := *s
	c.Groups = slices.Clone(s.Groups)
	return &c
}

// String describes the session for humans with its tokens redacted. It,
// Format and LogValue have value receivers so that a dereferenced Session
// is redacted as well.
func (s Session) String() string {
	return fmt.Sprintf("session{id=%q user=%q email=%q groups=%d id_token=%s access_token=%s refresh_token=%s created_at=%s expires_on=%s}",
		s.ID, s.User, s.Email, len(s.Groups),
		redacted(s.IDToken), redacted(s.AccessToken), redacted(s.RefreshToken),
		s.CreatedAt.Format(time.RFC3339), s.ExpiresOn.Format(time.RFC3339))
}

// Format makes every fmt verb (%v, %+v, %#v, and also %d or %x, which
// would otherwise print each field) print String.
func (s Session) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// LogValue implements slog.LogValuer: the session's identity and times,
// never its tokens.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", s.ID),
		slog.String("user", s.User),
		slog.String("email", s.Email),
		slog.Int("groups", len(s.Groups)),
		slog.Bool("has_refresh_token", s.RefreshToken != ""),
		slog.Time("created_at", s.CreatedAt),
		slog.Time("expires_on", s.ExpiresOn),
	)
}

func redacted(token string) string {
	if token == "" {
		return "none"
	}
	return "[redacted]"
}
