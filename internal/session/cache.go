package session

import (
	"strings"
	"sync"
	"time"
)

// DefaultCacheSize is how many opened sessions a Codec keeps by default.
const DefaultCacheSize = 10_000

// cache maps a sealed cookie value to the Session it opened to, so that the
// request after the first one with a given cookie costs a map lookup instead
// of base64, AES-GCM and decoding.
//
// The key is the whole sealed string, compared in full by the map: a hit
// therefore means the browser sent exactly the bytes that were
// authenticated, and no hash collision can hand one user's session to
// another. (Hashing the key with SHA-256 instead would cost more than the
// whole budget of a hit for a 4 KB cookie.) Only values that opened are
// stored, so garbage cookies cannot fill the cache; the entry also records
// the cookie name, because the same bytes presented under another name must
// not open.
//
// The cache is bounded: when full it first drops expired entries and then,
// if still near the bound, arbitrary ones (Go's map iteration order is
// randomized), taking out a sixteenth at a time so that the O(n) sweep runs
// at most once per n/16 insertions. Hits take only the read lock.
//
// Worst-case memory is about size × 1.75 × the cookie length (the key, plus
// the decoded strings, which share one copy of the plaintext): ~50 MB for
// 10,000 sessions of 3 KB cookies.
type cache struct {
	max int

	mu sync.RWMutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	name    string
	s       *Session
	issued  time.Time
	expires time.Time // when the cookie expiry ends the entry; zero: never
}

func newCache(max int) *cache {
	return &cache{max: max, m: make(map[string]cacheEntry)}
}

func (c *cache) get(key string) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.m[key]
	c.mu.RUnlock()
	return e, ok
}

// put stores e under a copy of key (key may be a substring of a request's
// Cookie header, which the cache must not keep alive).
func (c *cache) put(key string, e cacheEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		c.makeRoom(now)
	}
	c.m[strings.Clone(key)] = e
}

func (c *cache) makeRoom(now time.Time) {
	target := c.max - max(c.max/16, 1)
	for k, e := range c.m {
		if !e.expires.IsZero() && !now.Before(e.expires) {
			delete(c.m, k)
		}
	}
	for k := range c.m {
		if len(c.m) <= target {
			break
		}
		delete(c.m, k)
	}
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
