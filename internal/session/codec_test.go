package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

const (
	testSecret = "0123456789abcdef0123456789abcdef"
	oldSecret  = "fedcba9876543210"
	testName   = "_oauth2_proxy"
)

// fakeClock is a settable clock for the Codec.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func newTestCodec(t testing.TB, clk *fakeClock, opts ...CodecOption) *Codec {
	t.Helper()
	c, err := NewCodec([]byte(testSecret), append([]CodecOption{WithClock(clk.Now)}, opts...)...)
	if err != nil {
		t.Fatalf("NewCodec = %v", err)
	}
	return c
}

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func mustSeal(t testing.TB, c *Codec, name string, s *Session) string {
	t.Helper()
	v, err := c.Seal(name, s)
	if err != nil {
		t.Fatalf("Seal = %v", err)
	}
	return v
}

func TestSealOpenRoundTrip(t *testing.T) {
	for _, cacheSize := range []int{0, DefaultCacheSize} {
		t.Run(fmt.Sprintf("cache=%d", cacheSize), func(t *testing.T) {
			clk := &fakeClock{now: t0}
			c := newTestCodec(t, clk, WithCacheSize(cacheSize))
			want := testSession()
			v := mustSeal(t, c, testName, want)
			if strings.ContainsAny(v, "=+/ ,;\"") {
				t.Errorf("Seal = %q…, want base64url without padding", v[:16])
			}
			for range 2 {
				got, err := c.Open(testName, v, time.Hour)
				if err != nil {
					t.Fatalf("Open = %v", err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Open mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSealIsRandomized(t *testing.T) {
	c := newTestCodec(t, &fakeClock{now: t0})
	a, b := mustSeal(t, c, testName, testSession()), mustSeal(t, c, testName, testSession())
	if a == b {
		t.Error("two Seals of one session are equal, want distinct nonces")
	}
}

func TestOpenRejects(t *testing.T) {
	clk := &fakeClock{now: t0}
	c := newTestCodec(t, clk, WithCacheSize(0))
	v := mustSeal(t, c, testName, testSession())
	raw, _ := base64.RawURLEncoding.DecodeString(v)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	other, _ := NewCodec([]byte(oldSecret), WithClock(clk.Now))
	tests := []struct {
		name, cookie, value string
		c                   *Codec
	}{
		{"OtherName", testName + "_csrf", v, c},
		{"OtherSecret", testName, v, other},
		{"Version", testName, flip(0), c},
		{"Nonce", testName, flip(1), c},
		{"Ciphertext", testName, flip(len(raw) / 2), c},
		{"Tag", testName, flip(len(raw) - 1), c},
		{"Truncated", testName, v[:len(v)-1], c},
		{"Empty", testName, "", c},
		{"TooShort", testName, v[:20], c},
		{"TooLong", testName, strings.Repeat("A", maxSealedSize+1), c},
		{"NotBase64", testName, "!" + v[1:], c},
		{"Padded", testName, base64.URLEncoding.EncodeToString(raw), c},
		{"NonZeroTrailingBits", testName, setTrailingBit(t, v), c},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Open(tt.cookie, tt.value, time.Hour)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrNoSession) {
				t.Errorf("Open = (%v, %v), want ErrInvalid", got, err)
			}
		})
	}
}

// setTrailingBit sets the lowest bit of v's last base64 character, which
// carries no data: a lenient decoder would ignore it.
func setTrailingBit(t *testing.T, v string) string {
	t.Helper()
	if len(v)%4 == 0 {
		t.Fatalf("sealed value of %d characters has no unused bits", len(v))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, v[len(v)-1])
	return v[:len(v)-1] + string(alphabet[i|1])
}

func TestSealBytes(t *testing.T) {
	clk := &fakeClock{now: t0}
	c := newTestCodec(t, clk)
	payload := []byte(`{"state":"s","nonce":"n"}`)
	csrf := testName + "_csrf"
	v, err := c.SealBytes(csrf, payload)
	if err != nil {
		t.Fatalf("SealBytes = %v", err)
	}
	got, err := c.OpenBytes(csrf, v, 15*time.Minute)
	if err != nil {
		t.Fatalf("OpenBytes = %v", err)
	}
	if diff := cmp.Diff(payload, got); diff != "" {
		t.Errorf("OpenBytes mismatch (-want +got):\n%s", diff)
	}
	if empty, _ := c.SealBytes(csrf, nil); empty != "" {
		if got, err := c.OpenBytes(csrf, empty, time.Minute); err != nil || len(got) != 0 {
			t.Errorf("OpenBytes(SealBytes(nil)) = (%q, %v), want empty", got, err)
		}
	}

	// The kind and the name are bound.
	if _, err := c.Open(csrf, v, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(bytes value) = %v, want ErrInvalid", err)
	}
	if _, err := c.OpenBytes(testName, v, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("OpenBytes under another name = %v, want ErrInvalid", err)
	}
	sv := mustSeal(t, c, csrf, testSession())
	if _, err := c.OpenBytes(csrf, sv, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("OpenBytes(session value) = %v, want ErrInvalid", err)
	}
	// And the age.
	clk.Set(t0.Add(15 * time.Minute))
	if _, err := c.OpenBytes(csrf, v, 15*time.Minute); !errors.Is(err, ErrExpired) {
		t.Errorf("OpenBytes after its max age = %v, want ErrExpired", err)
	}
}

func TestOpenAge(t *testing.T) {
	tests := []struct {
		name    string
		elapsed time.Duration
		maxAge  time.Duration
		want    error
	}{
		{"Fresh", 0, time.Hour, nil},
		{"JustBefore", time.Hour - time.Nanosecond, time.Hour, nil},
		{"AtMaxAge", time.Hour, time.Hour, ErrExpired},
		{"Long", 365 * 24 * time.Hour, time.Hour, ErrExpired},
		{"NoLimit", 365 * 24 * time.Hour, 0, nil},
		{"NegativeIsNoLimit", 365 * 24 * time.Hour, -1, nil},
		{"FutureWithinSkew", -maxClockSkew, time.Hour, nil},
		{"FutureBeyondSkew", -maxClockSkew - time.Second, time.Hour, ErrInvalid},
	}
	for _, tt := range tests {
		for _, cacheSize := range []int{0, DefaultCacheSize} {
			t.Run(fmt.Sprintf("%s/cache=%d", tt.name, cacheSize), func(t *testing.T) {
				clk := &fakeClock{now: t0}
				c := newTestCodec(t, clk, WithCacheSize(cacheSize))
				v := mustSeal(t, c, testName, testSession())
				// Open once while fresh, so that the cached path is the one
				// judged below.
				if _, err := c.Open(testName, v, 0); err != nil {
					t.Fatalf("fresh Open = %v", err)
				}
				clk.Set(t0.Add(tt.elapsed))
				_, err := c.Open(testName, v, tt.maxAge)
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Errorf("Open after %v with maxAge %v = %v, want %v", tt.elapsed, tt.maxAge, err, tt.want)
				}
			})
		}
	}
}

func TestOpenCache(t *testing.T) {
	clk := &fakeClock{now: t0}
	c := newTestCodec(t, clk)
	v := mustSeal(t, c, testName, testSession())
	a, err := c.Open(testName, v, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Open(testName, v, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("second Open returned another *Session, want the cached one")
	}
	// The cached entry remembers its cookie name.
	if _, err := c.Open(testName+"_csrf", v, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open under another name after a cached Open = %v, want ErrInvalid", err)
	}
	// Values that do not open are not cached.
	for i := range 100 {
		c.Open(testName, fmt.Sprintf("%s%03d", v[:len(v)-3], i), time.Hour)
	}
	if n := c.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries, want 1", n)
	}
}

func TestCacheIsBounded(t *testing.T) {
	const size = 64
	clk := &fakeClock{now: t0}
	c := newTestCodec(t, clk, WithCacheSize(size))
	var values []string
	for i := range 5 * size {
		s := testSession()
		s.ID = fmt.Sprint(i)
		values = append(values, mustSeal(t, c, testName, s))
	}
	for i, v := range values {
		s, err := c.Open(testName, v, 3*time.Hour)
		if err != nil {
			t.Fatalf("Open(values[%d]) = %v", i, err)
		}
		if s.ID != fmt.Sprint(i) {
			t.Fatalf("Open(values[%d]).ID = %q", i, s.ID)
		}
		if n := c.cache.len(); n > size {
			t.Fatalf("cache holds %d entries, want ≤ %d", n, size)
		}
	}
	// Whatever was evicted still opens (the slow way).
	for i, v := range values {
		if _, err := c.Open(testName, v, 3*time.Hour); err != nil {
			t.Fatalf("Open(values[%d]) again = %v", i, err)
		}
	}
}

func TestRotation(t *testing.T) {
	clk := &fakeClock{now: t0}
	old, err := NewCodec([]byte(oldSecret), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	rotated := newTestCodec(t, clk, WithPreviousSecrets([]byte(oldSecret)))
	current := newTestCodec(t, clk)

	fromOld := mustSeal(t, old, testName, testSession())
	if _, err := rotated.Open(testName, fromOld, time.Hour); err != nil {
		t.Errorf("rotated.Open(sealed by the previous secret) = %v, want it to open", err)
	}
	if _, err := current.Open(testName, fromOld, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open without the previous secret = %v, want ErrInvalid", err)
	}
	fromRotated := mustSeal(t, rotated, testName, testSession())
	if _, err := current.Open(testName, fromRotated, time.Hour); err != nil {
		t.Errorf("current.Open(sealed by rotated codec) = %v, want it to open: the new secret seals", err)
	}
	if _, err := old.Open(testName, fromRotated, time.Hour); !errors.Is(err, ErrInvalid) {
		t.Errorf("old.Open(sealed by rotated codec) = %v, want ErrInvalid: previous secrets never seal", err)
	}
}

func TestNewCodecSecretLength(t *testing.T) {
	for n := range 40 {
		_, err := NewCodec(bytes.Repeat([]byte{'k'}, n))
		if valid := n == 16 || n == 24 || n == 32; valid != (err == nil) {
			t.Errorf("NewCodec(%d-byte secret) = %v, want valid=%v", n, err, valid)
		}
		_, err = NewCodec([]byte(testSecret), WithPreviousSecrets(bytes.Repeat([]byte{'k'}, n)))
		if valid := n == 16 || n == 24 || n == 32; valid != (err == nil) {
			t.Errorf("NewCodec(previous %d-byte secret) = %v, want valid=%v", n, err, valid)
		}
	}
	if _, err := NewCodec([]byte(testSecret), WithCacheSize(-1)); err == nil {
		t.Error("NewCodec(WithCacheSize(-1)) = nil error")
	}
}

// TestSecretLengthsGiveDistinctKeys: the three accepted lengths each derive
// their own key, and a 16-byte secret is no weaker in key size.
func TestSecretLengthsGiveDistinctKeys(t *testing.T) {
	clk := &fakeClock{now: t0}
	var codecs []*Codec
	for _, n := range []int{16, 24, 32} {
		c, err := NewCodec([]byte(testSecret[:n]), WithClock(clk.Now))
		if err != nil {
			t.Fatal(err)
		}
		codecs = append(codecs, c)
	}
	for i, a := range codecs {
		v := mustSeal(t, a, testName, testSession())
		for j, b := range codecs {
			_, err := b.Open(testName, v, time.Hour)
			if (i == j) != (err == nil) {
				t.Errorf("codec %d opening codec %d's value = %v", j, i, err)
			}
		}
	}
}

// TestGolden pins the sealed format: a value sealed by this release must
// open in later ones (users would be signed out otherwise). Regenerate
// with -update only when the format version changes.
func TestGolden(t *testing.T) {
	path := filepath.Join("testdata", "sealed-v1.golden")
	clk := &fakeClock{now: t0}
	if *update {
		c := newTestCodec(t, clk, WithRandom(bytes.NewReader(bytes.Repeat([]byte{7}, 64))))
		v := mustSeal(t, c, testName, testSession())
		if err := os.WriteFile(path, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	c := newTestCodec(t, clk)
	got, err := c.Open(testName, strings.TrimSpace(string(b)), time.Hour)
	if err != nil {
		t.Fatalf("Open(golden) = %v", err)
	}
	if diff := cmp.Diff(testSession(), got); diff != "" {
		t.Errorf("Open(golden) mismatch (-want +got):\n%s", diff)
	}
}

func TestSealNil(t *testing.T) {
	c := newTestCodec(t, &fakeClock{now: t0})
	if _, err := c.Seal(testName, nil); err == nil {
		t.Error("Seal(nil) = nil error")
	}
}

// benchSession is a realistic OIDC session: RS256 ID and access tokens of
// about 900 bytes each, an opaque refresh token, a few groups. Sealed, it
// is a ~2.9 KB cookie: one cookie, as for most users.
func benchSession() *Session {
	s := testSession()
	s.IDToken = strings.Repeat("eyJhbGciOiJSUzI1NiJ9", 45)
	s.AccessToken = strings.Repeat("eyJzY29wZSI6Im9wZW5p", 45)
	s.RefreshToken = strings.Repeat("r", 200)
	s.Groups = []string{"admins", "engineering", "oncall", "platform", "sre"}
	return s
}

// BenchmarkOpen is the hot path: a proxied request's Cookie header (the
// session cookie among a few others) to its *Session, through the cache.
func BenchmarkOpen(b *testing.B) {
	store, r := benchStore(b, DefaultCacheSize)
	if _, err := store.Load(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Load(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenCold is the same with the cache disabled: base64, AES-GCM,
// decoding, every time (what the first request with a new cookie costs).
func BenchmarkOpenCold(b *testing.B) {
	store, r := benchStore(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := store.Load(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenParallel is BenchmarkOpen from every core at once.
func BenchmarkOpenParallel(b *testing.B) {
	store, r := benchStore(b, DefaultCacheSize)
	if _, err := store.Load(r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := store.Load(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	c := newTestCodec(b, &fakeClock{now: t0})
	s := benchSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Seal(testName, s); err != nil {
			b.Fatal(err)
		}
	}
}

func benchStore(b *testing.B, cacheSize int) (*CookieStore, *http.Request) {
	b.Helper()
	clk := &fakeClock{now: t0}
	c := newTestCodec(b, clk, WithCacheSize(cacheSize))
	st, err := NewCookieStore(c, CookieConfig{})
	if err != nil {
		b.Fatal(err)
	}
	v := mustSeal(b, c, DefaultCookieName, benchSession())
	b.Logf("sealed session: %d bytes", len(v))
	r := newRequest("_ga=GA1.2.1234567890.1700000000; theme=dark; " + DefaultCookieName + "=" + v + "; _gid=GA1.2.987654321.1700000000")
	return st, r
}
