package idp

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiterSetBounded(t *testing.T) {
	now := time.Now()
	s := newLimiterSet(60, 2, 3) // one a second, burst 2: refilled after 2s
	for i := range 10 {
		s.fail("k"+strconv.Itoa(i), now.Add(time.Duration(i)*time.Millisecond))
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
	s.fail("idle", now)
	s.fail("busy1", now.Add(3*time.Second))
	s.fail("busy2", now.Add(3*time.Second))
	s.fail("new", now.Add(3*time.Second))
	if s.entries["idle"] != nil || s.entries["busy1"] == nil || s.entries["busy2"] == nil || s.entries["new"] == nil {
		t.Errorf("kept %v, want busy1, busy2 and new", keys(s))
	}
}

func TestLimiterSetWait(t *testing.T) {
	now := time.Now()
	s := newLimiterSet(6, 2, 10) // one each 10s, burst 2
	if w := s.wait("a", now); w != 0 {
		t.Errorf("unknown key waits %v", w)
	}
	if s.size() != 0 {
		t.Errorf("wait stored a key")
	}
	s.fail("a", now)
	s.fail("a", now)
	if w := s.wait("a", now); w != 10*time.Second {
		t.Errorf("after the burst wait = %v, want 10s", w)
	}
	if w := s.wait("a", now.Add(10*time.Second)); w != 0 {
		t.Errorf("after 10s wait = %v, want 0", w)
	}
}

func keys(s *limiterSet) []string {
	var out []string
	for k := range s.entries {
		out = append(out, k)
	}
	return out
}
