package session

import (
	"fmt"
	"testing"
	"time"
)

// TestCacheEvictsExpiredFirst: when full, the cache drops expired entries
// before live ones, and only then arbitrary live ones.
func TestCacheEvictsExpiredFirst(t *testing.T) {
	const size = 32
	c := newCache(size)
	live := cacheEntry{expires: t0.Add(time.Hour)}
	dead := cacheEntry{expires: t0.Add(-time.Second)}
	forever := cacheEntry{} // no expiry
	for i := range size {
		switch {
		case i%2 == 0:
			c.put(fmt.Sprint("dead", i), dead, t0)
		case i%4 == 1:
			c.put(fmt.Sprint("live", i), live, t0)
		default:
			c.put(fmt.Sprint("forever", i), forever, t0)
		}
	}
	c.put("new", live, t0)
	if got, want := c.len(), size/2+1; got != want {
		t.Errorf("after an insert into a full cache: %d entries, want %d (the expired half dropped)", got, want)
	}
	for i := 1; i < size; i += 2 {
		key := fmt.Sprint("forever", i)
		if i%4 == 1 {
			key = fmt.Sprint("live", i)
		}
		if _, ok := c.get(key); !ok {
			t.Errorf("entry %s was evicted while expired ones remained", key)
		}
	}

	// All live: an insert into a full cache evicts a sixteenth at random.
	c = newCache(size)
	for i := range size {
		c.put(fmt.Sprint(i), live, t0)
	}
	c.put("new", live, t0)
	if got, want := c.len(), size-size/16+1; got != want {
		t.Errorf("after an insert into a full live cache: %d entries, want %d", got, want)
	}
	if _, ok := c.get("new"); !ok {
		t.Error("the inserted entry is missing")
	}
	// Replacing an existing key never evicts.
	n := c.len()
	c.put("new", live, t0)
	if c.len() != n {
		t.Errorf("re-inserting a key changed the size from %d to %d", n, c.len())
	}
}
