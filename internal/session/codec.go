package session

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// A sealed session, before base64url (no padding):
//
//	sealed    = version:byte(1) ‖ nonce(12) ‖ AES-256-GCM(key, nonce, plaintext, aad)
//	plaintext = time(issued) ‖ payload
//	payload   = session (see encoding.go)   for kind 1 (Seal, Open)
//	          | bytes                       for kind 2 (SealBytes, OpenBytes)
//	aad       = version:byte(1) ‖ kind:byte ‖ cookie name
//
// The key is HKDF-SHA256(secret, info = hkdfInfo), so every accepted secret
// length (16, 24 or 32 bytes) yields an AES-256 key, and a key for another
// purpose derived from the same secret (with another info) is unrelated.
//
// The cookie name and the kind of payload are authenticated, so a value
// sealed for one cookie (say, the CSRF cookie) does not open as another,
// and opaque bytes never decode as a session. The issue time is inside the
// authenticated plaintext, so the server enforces the cookie expiry itself:
// a browser that ignores Max-Age, or a copied cookie replayed later, gains
// nothing.
const (
	sealVersion   byte = 1
	kindSession   byte = 1
	kindBytes     byte = 2
	hkdfInfo           = "gatehouse session v1"
	sealOverhead       = 1 + nonceSize + tagSize
	nonceSize          = 12
	tagSize            = 16
	maxClockSkew       = 5 * time.Minute
	maxSealedSize      = MaxCookieParts * MaxCookieSize // longest value Open considers
)

// Codec seals Sessions into cookie-safe strings and opens them again. Open
// keeps a bounded cache of what it opened, which is what makes opening the
// session on every proxied request cheap. A Codec is safe for concurrent
// use.
type Codec struct {
	aeads []cipher.AEAD // aeads[0] seals; all of them open, in order
	now   func() time.Time
	rand  io.Reader
	cache *cache // nil when disabled
	bufs  sync.Pool
	// b64 decodes strictly: unused trailing bits must be zero, so exactly
	// one string opens for each sealed value and a cookie cannot be varied
	// (or cached twice) without breaking it.
	b64 *base64.Encoding
}

// CodecOption configures NewCodec.
type CodecOption func(*codecOptions)

type codecOptions struct {
	previous  [][]byte
	now       func() time.Time
	rand      io.Reader
	cacheSize int
}

// WithPreviousSecrets adds secrets that open sessions but never seal them,
// for rotating the cookie secret: deploy the new secret with the old one as
// previous, and drop the old one once every cookie sealed under it has
// expired (one cookie expiry later). Each secret follows NewCodec's rule.
func WithPreviousSecrets(secrets ...[]byte) CodecOption {
	return func(o *codecOptions) { o.previous = append(o.previous, secrets...) }
}

// WithClock sets the clock that stamps sealed sessions and judges their age
// (default, and when nil: time.Now).
func WithClock(now func() time.Time) CodecOption {
	return func(o *codecOptions) { o.now = now }
}

// WithRandom sets the source of nonces (default, and when nil: crypto/rand). Tests pass a
// deterministic reader; production code should not use this.
func WithRandom(r io.Reader) CodecOption {
	return func(o *codecOptions) { o.rand = r }
}

// WithCacheSize bounds how many opened sessions the Codec keeps (default
// DefaultCacheSize); 0 disables the cache.
func WithCacheSize(n int) CodecOption {
	return func(o *codecOptions) { o.cacheSize = n }
}

// NewCodec returns a Codec sealing under secret, the decoded cookie secret
// (see DecodeSecret): 16, 24 or 32 bytes.
func NewCodec(secret []byte, opts ...CodecOption) (*Codec, error) {
	o := codecOptions{now: time.Now, rand: rand.Reader, cacheSize: DefaultCacheSize}
	for _, opt := range opts {
		opt(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.rand == nil {
		o.rand = rand.Reader
	}
	if o.cacheSize < 0 {
		return nil, fmt.Errorf("session cache size must not be negative; got %d", o.cacheSize)
	}
	c := &Codec{now: o.now, rand: o.rand, b64: base64.RawURLEncoding.Strict()}
	for i, s := range append([][]byte{secret}, o.previous...) {
		aead, err := newAEAD(s)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("session secret: %w", err)
			}
			return nil, fmt.Errorf("previous session secret %d: %w", i, err)
		}
		c.aeads = append(c.aeads, aead)
	}
	if o.cacheSize > 0 {
		c.cache = newCache(o.cacheSize)
	}
	return c, nil
}

func newAEAD(secret []byte) (cipher.AEAD, error) {
	if !validSecretLen(len(secret)) {
		return nil, fmt.Errorf("must be 16, 24 or 32 bytes; got %d bytes", len(secret))
	}
	key, err := hkdf.Key(sha256.New, secret, nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal returns s sealed for the cookie called name and stamped with the
// current time, base64url-encoded without padding (safe in a cookie without
// quoting).
//
// Nonces are random, so one secret should seal fewer than 2³² values
// (AES-GCM's bound for random 96-bit nonces): rotate the secret long before.
func (c *Codec) Seal(name string, s *Session) (string, error) {
	if s == nil {
		return "", errors.New("seal session: nil session")
	}
	return c.seal(kindSession, name, s.binarySize(), s.appendBinary)
}

// SealBytes is Seal for an opaque payload, such as the login state in the
// CSRF cookie. A value sealed by SealBytes never opens with Open, nor one
// sealed by Seal with OpenBytes, even under the same cookie name.
func (c *Codec) SealBytes(name string, payload []byte) (string, error) {
	return c.seal(kindBytes, name, len(payload), func(b []byte) []byte { return append(b, payload...) })
}

func (c *Codec) seal(kind byte, name string, payloadLen int, appendPayload func([]byte) []byte) (string, error) {
	issued := c.now()
	buf := make([]byte, 1+nonceSize, sealOverhead+timeSize(issued)+payloadLen)
	buf[0] = sealVersion
	if _, err := io.ReadFull(c.rand, buf[1:]); err != nil {
		return "", fmt.Errorf("seal: nonce: %w", err)
	}
	buf = appendTime(buf, issued)
	buf = appendPayload(buf)
	hdr := 1 + nonceSize
	sealed := c.aeads[0].Seal(buf[:hdr], buf[1:hdr], buf[hdr:], additionalData(kind, name))
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// Open returns the Session that value, the content of the cookie called
// name, was sealed from. It fails with ErrInvalid when the value does not
// open under any of the Codec's secrets for that name, and with ErrExpired
// when it was sealed maxAge or longer ago (maxAge ≤ 0: no limit). A value
// stamped more than five minutes in the future (oauth2-proxy's allowance
// for clock skew between replicas) is invalid.
//
// The returned Session is shared with every other Open of the same value:
// it must not be modified (see Session.Clone).
func (c *Codec) Open(name, value string, maxAge time.Duration) (*Session, error) {
	now := c.now()
	if c.cache != nil {
		if e, ok := c.cache.get(value); ok && e.name == name {
			if err := checkIssued(e.issued, now, maxAge); err != nil {
				return nil, err
			}
			return e.s, nil
		}
	}
	pt, err := c.decrypt(kindSession, name, value)
	if err != nil {
		return nil, err
	}
	s, issued, err := decodePlaintext(pt)
	if err != nil {
		return nil, err
	}
	if err := checkIssued(issued, now, maxAge); err != nil {
		return nil, err
	}
	if c.cache != nil {
		e := cacheEntry{name: name, s: s, issued: issued}
		if maxAge > 0 {
			e.expires = issued.Add(maxAge)
		}
		c.cache.put(value, e, now)
	}
	return s, nil
}

// OpenBytes returns the payload that SealBytes sealed into value for the
// cookie called name, with Open's errors and age rules. Nothing is cached.
func (c *Codec) OpenBytes(name, value string, maxAge time.Duration) ([]byte, error) {
	now := c.now()
	pt, err := c.decrypt(kindBytes, name, value)
	if err != nil {
		return nil, err
	}
	d := decoder{rest: pt}
	issued := d.time()
	if d.bad || issued.IsZero() {
		return nil, ErrInvalid
	}
	if err := checkIssued(issued, now, maxAge); err != nil {
		return nil, err
	}
	return []byte(d.rest), nil
}

func checkIssued(issued, now time.Time, maxAge time.Duration) error {
	if issued.Sub(now) > maxClockSkew {
		return ErrInvalid
	}
	if maxAge > 0 && now.Sub(issued) >= maxAge {
		return ErrExpired
	}
	return nil
}

// decrypt does the work that the cache saves: base64, then AES-GCM under
// each secret in turn. It returns the plaintext as a string, its one copy
// (a decoded Session's strings are substrings of it).
func (c *Codec) decrypt(kind byte, name, value string) (string, error) {
	if len(value) < base64.RawURLEncoding.EncodedLen(sealOverhead) || len(value) > maxSealedSize {
		return "", ErrInvalid
	}
	// One pooled buffer holds the decoded value and, after it, room for the
	// plaintext: decrypting out of place keeps the ciphertext intact for
	// the next secret when the first one fails.
	n := base64.RawURLEncoding.DecodedLen(len(value))
	bp := c.buffer(2 * n)
	defer func() {
		clear(*bp) // it held plaintext tokens
		c.bufs.Put(bp)
	}()
	raw := (*bp)[:n]
	if _, err := c.b64.Decode(raw, []byte(value)); err != nil {
		return "", ErrInvalid
	}
	if raw[0] != sealVersion {
		return "", ErrInvalid
	}
	nonce, ct := raw[1:1+nonceSize], raw[1+nonceSize:]
	aad := additionalData(kind, name)
	dst := (*bp)[n:n]
	for _, aead := range c.aeads {
		if pt, err := aead.Open(dst, nonce, ct, aad); err == nil {
			return string(pt), nil
		}
	}
	return "", ErrInvalid
}

// decodePlaintext splits an opened plaintext into its issue time and
// session.
func decodePlaintext(pt string) (*Session, time.Time, error) {
	d := decoder{rest: pt}
	issued := d.time()
	if d.bad || issued.IsZero() {
		return nil, time.Time{}, ErrInvalid
	}
	s := new(Session)
	if err := s.decode(d.rest); err != nil {
		return nil, time.Time{}, ErrInvalid
	}
	return s, issued, nil
}

// buffer returns a pooled scratch buffer of n bytes.
func (c *Codec) buffer(n int) *[]byte {
	if bp, ok := c.bufs.Get().(*[]byte); ok && cap(*bp) >= n {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]byte, n)
	return &b
}

func additionalData(kind byte, name string) []byte {
	aad := make([]byte, 0, 2+len(name))
	aad = append(aad, sealVersion, kind)
	return append(aad, name...)
}
