package idp

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed sign-ins are rate limited per account (the email typed, whether
// or not it exists, so the limit reveals nothing) and per client address,
// against password guessing. Only failures count: a test suite that signs
// in again and again is never slowed down.
const (
	accountAttemptsPerMinute = 5
	accountBurst             = 5
	addressAttemptsPerMinute = 20
	addressBurst             = 20
	// maxLimiters bounds each limiter map. Entries idle long enough to
	// have refilled are dropped first (losing nothing); when every entry
	// is busy the least recently used one goes.
	maxLimiters = 10000
)

// loginLimits are the two limiter maps of a Provider.
type loginLimits struct {
	account *limiterSet
	address *limiterSet
}

func newLoginLimits() *loginLimits {
	return &loginLimits{
		account: newLimiterSet(accountAttemptsPerMinute, accountBurst, maxLimiters),
		address: newLimiterSet(addressAttemptsPerMinute, addressBurst, maxLimiters),
	}
}

// wait returns how long the account and address must wait before the
// next attempt; 0 means it may be made now.
func (l *loginLimits) wait(account, address string, now time.Time) time.Duration {
	return max(l.account.wait(account, now), l.address.wait(address, now))
}

// fail counts a failed attempt against both.
func (l *loginLimits) fail(account, address string, now time.Time) {
	l.account.fail(account, now)
	l.address.fail(address, now)
}

// limiterSet is a bounded map of token-bucket limiters by key.
type limiterSet struct {
	limit   rate.Limit
	burst   int
	max     int
	refill  time.Duration // an entry idle this long is full again: dropping it loses nothing
	mu      sync.Mutex
	entries map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiterSet(perMinute float64, burst, maxEntries int) *limiterSet {
	limit := rate.Limit(perMinute / 60)
	return &limiterSet{
		limit:   limit,
		burst:   burst,
		max:     maxEntries,
		refill:  time.Duration(float64(burst) / float64(limit) * float64(time.Second)),
		entries: map[string]*limiterEntry{},
	}
}

// wait returns how long key must wait for its next attempt. A key never
// seen (or dropped) waits for nothing, and is not stored.
func (s *limiterSet) wait(key string, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		return 0
	}
	tokens := e.lim.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(s.limit) * float64(time.Second)))
}

// fail spends one token of key.
func (s *limiterSet) fail(key string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		if len(s.entries) >= s.max {
			s.evictLocked(now)
		}
		e = &limiterEntry{lim: rate.NewLimiter(s.limit, s.burst)}
		s.entries[key] = e
	}
	e.seen = now
	e.lim.AllowN(now, 1)
}

// evictLocked drops every refilled entry, and if none was, the least
// recently used one.
func (s *limiterSet) evictLocked(now time.Time) {
	var oldest string
	var oldestSeen time.Time
	dropped := false
	for k, e := range s.entries {
		if now.Sub(e.seen) >= s.refill {
			delete(s.entries, k)
			dropped = true
			continue
		}
		if oldest == "" || e.seen.Before(oldestSeen) {
			oldest, oldestSeen = k, e.seen
		}
	}
	if !dropped && oldest != "" {
		delete(s.entries, oldest)
	}
}

func (s *limiterSet) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
