package idp

import (
	"strconv"
	"testing"
	"time"
)

// failAt records one failed attempt of key at now.
func failAt(t *testing.T, s *limiterSet, key string, now time.Time) {
	t.Helper()
	if w := s.begin(key, now); w > 0 {
		t.Fatalf("begin(%q) waits %v, want an attempt", key, w)
	}
	s.end(key, now, true)
}

func TestLimiterSetBounded(t *testing.T) {
	now := time.Now()
	s := newLimiterSet(60, 2, 3) // one a second, burst 2: refilled after 2s
	for i := range 10 {
		failAt(t, s, "k"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
		if s.size() > 3 {
			t.Fatalf("after %d keys the set holds %d, want at most 3", i+1, s.size())
		}
	}
	// The most recent keys are the ones kept.
	if s.entries["k9"] == nil || s.entries["k0"] != nil {
		t.Errorf("kept %v, want the most recently used", keys(s))
	}
	// Refilled entries go first, and none of the busy ones.
	s = newLimiterSet(60, 2, 3)
	failAt(t, s, "idle", now)
	failAt(t, s, "busy1", now.Add(3*time.Second))
	failAt(t, s, "busy2", now.Add(3*time.Second))
	failAt(t, s, "new", now.Add(3*time.Second))
	if s.entries["idle"] != nil || s.entries["busy1"] == nil || s.entries["busy2"] == nil || s.entries["new"] == nil {
		t.Errorf("kept %v, want busy1, busy2 and new", keys(s))
	}
}

func TestLimiterSetWait(t *testing.T) {
	now := time.Now()
	s := newLimiterSet(6, 2, 10) // one each 10s, burst 2
	failAt(t, s, "a", now)
	failAt(t, s, "a", now)
	if w := s.begin("a", now); w != 10*time.Second {
		t.Errorf("after the burst begin waits %v, want 10s", w)
	}
	if w := s.begin("a", now.Add(10*time.Second)); w != 0 {
		t.Errorf("after 10s begin waits %v, want 0", w)
	}
	// A success spends nothing.
	s.end("a", now.Add(10*time.Second), false)
	if w := s.begin("a", now.Add(10*time.Second)); w != 0 {
		t.Errorf("after a success begin waits %v, want 0", w)
	}
}

// TestLimiterSetCountsAttemptsInFlight: reservations not yet ended count,
// so concurrent attempts cannot all pass the check first.
func TestLimiterSetCountsAttemptsInFlight(t *testing.T) {
	now := time.Now()
	s := newLimiterSet(6, 2, 10)
	for i := range 2 {
		if w := s.begin("a", now); w != 0 {
			t.Fatalf("attempt %d of the burst of 2 waits %v", i+1, w)
		}
	}
	if w := s.begin("a", now); w == 0 {
		t.Errorf("a third attempt in flight was allowed with a burst of 2")
	}
	// Evicting never drops an entry with attempts in flight.
	s2 := newLimiterSet(60, 2, 1)
	s2.begin("busy", now)
	s2.begin("other", now.Add(time.Hour))
	if s2.entries["busy"] == nil {
		t.Errorf("an entry with an attempt in flight was evicted")
	}
}

func keys(s *limiterSet) []string {
	var out []string
	for k := range s.entries {
		out = append(out, k)
	}
	return out
}
