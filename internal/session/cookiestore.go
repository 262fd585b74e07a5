package session

import (
	"errors"
	"fmt"
	"net/http"
)

// CookieStore keeps the whole session, sealed by a Codec, in the browser's
// cookies: nothing to run, nothing to lose on restart, but every request
// carries the tokens (about 3 KB) and a session cannot be revoked before
// its cookie expires except by rotating the secret.
type CookieStore struct {
	codec *Codec
	cfg   CookieConfig // defaults applied
}

var _ Store = (*CookieStore)(nil)

// NewCookieStore returns a store sealing sessions with codec into the
// cookies cfg describes.
func NewCookieStore(codec *Codec, cfg CookieConfig) (*CookieStore, error) {
	if codec == nil {
		return nil, errors.New("cookie store: nil codec")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cookie store: %w", err)
	}
	return &CookieStore{codec: codec, cfg: cfg.withDefaults()}, nil
}

// Save seals s into the session cookie, split across NAME_n cookies when
// it is too large for one, and expires whatever the browser still holds
// from an earlier session that these cookies do not overwrite: a left-over
// NAME would shadow new NAME_n parts, and a left-over NAME_k past the new
// last part would corrupt the joined value.
func (st *CookieStore) Save(w http.ResponseWriter, r *http.Request, s *Session) error {
	value, err := st.codec.Seal(st.cfg.Name, s)
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	if len(value) > maxSealedSize {
		return fmt.Errorf("save session: sealed session is %d bytes, too large for %d cookies: use a server-side session store", len(value), MaxCookieParts)
	}
	cookies := st.cfg.Split(value)
	if len(cookies) > MaxCookieParts {
		return fmt.Errorf("save session: session needs %d cookies, more than %d: use a server-side session store", len(cookies), MaxCookieParts)
	}
	for _, c := range cookies {
		http.SetCookie(w, c)
	}
	if len(cookies) > 1 && hasCookie(r, st.cfg.Name) {
		st.cfg.expire(w, st.cfg.Name)
	}
	st.cfg.expireParts(w, r, cookies)
	return nil
}

// Load opens the session carried by r's cookies.
func (st *CookieStore) Load(r *http.Request) (*Session, error) {
	value, ok := st.cfg.Join(r)
	if !ok {
		return nil, ErrNoSession
	}
	return st.codec.Open(st.cfg.Name, value, st.cfg.Expire)
}

// Clear expires the session cookie and all its parts.
func (st *CookieStore) Clear(w http.ResponseWriter, r *http.Request) error {
	st.cfg.Clear(w, r)
	return nil
}

// hasCookie reports whether r carries a cookie called name, whatever its
// value.
func hasCookie(r *http.Request, name string) bool {
	for _, line := range cookieLines(r) {
		for line != "" {
			var k string
			var ok bool
			k, _, line, ok = nextCookie(line)
			if ok && k == name {
				return true
			}
		}
	}
	return false
}
