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

// begin reserves an attempt for the account and the address, or returns
// how long they must wait. Reservations in flight count against the limit
// as failures would, so concurrent guesses cannot all slip past the check
// while the password hashes are compared. Every begin that returns 0 must
// be followed by end.
func (l *loginLimits) begin(account, address string, now time.Time) time.Duration {
	if wait := l.account.begin(account, now); wait > 0 {
		return wait
	}
	if wait := l.address.begin(address, now); wait > 0 {
		l.account.end(account, now, false)
		return wait
	}
	return 0
}

// end releases a reservation; a failed attempt spends a token of both.
func (l *loginLimits) end(account, address string, now time.Time, failed bool) {
	l.account.end(account, now, failed)
	l.address.end(address, now, failed)
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
	lim     *rate.Limiter
	seen    time.Time
	pending int // attempts reserved and not yet ended
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

// begin reserves an attempt for key, or returns how long key must wait.
func (s *limiterSet) begin(key string, now time.Time) time.Duration {
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
	tokens := e.lim.TokensAt(now) - float64(e.pending)
	if tokens >= 1 {
		e.pending++
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) / float64(s.limit) * float64(time.Second)))
}

// end releases a reservation of key, spending a token if it failed.
func (s *limiterSet) end(key string, now time.Time, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[key]
	if e == nil {
		return
	}
	if e.pending > 0 {
		e.pending--
	}
	e.seen = now
	if failed {
		e.lim.AllowN(now, 1)
	}
}

// evictLocked drops every refilled entry, and if none was, the least
// recently used one.
func (s *limiterSet) evictLocked(now time.Time) {
	var oldest string
	var oldestSeen time.Time
	dropped := false
	for k, e := range s.entries {
		if e.pending > 0 {
			continue // an attempt is in flight
		}
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
