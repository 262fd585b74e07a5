// Package storetest is the conformance suite every todo.Store must pass.
// Each store's tests call Run with a function that opens an empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gatehouse/internal/todo"
)

// Run runs the suite. open must return a fresh, empty store and arrange for
// it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) todo.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s todo.Store)
	}{
		{"CreateGet", testCreateGet},
		{"OwnerIsolation", testOwnerIsolation},
		{"Duplicate", testDuplicate},
		{"ListOrderAndPages", testListOrderAndPages},
		{"ListTiesBrokenByID", testListTies},
		{"ListCompletedFilter", testListCompleted},
		{"UpdateCompareAndSwap", testUpdateCAS},
		{"ConcurrentUpdatesOneWins", testConcurrentUpdates},
		{"Delete", testDelete},
		{"Ping", func(t *testing.T, s todo.Store) {
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping() = %v, want nil", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

var base = time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)

func newTodo(owner string, i int) todo.Todo {
	at := base.Add(time.Duration(i) * time.Second)
	return todo.Todo{
		ID:          todo.NewID(),
		Owner:       owner,
		Title:       fmt.Sprintf("todo %d — ünïcødé 日本", i),
		Description: "line one\nline two",
		CreatedAt:   at,
		UpdatedAt:   at,
		Version:     1,
	}
}

func mustCreate(t *testing.T, s todo.Store, td todo.Todo) {
	t.Helper()
	if err := s.Create(t.Context(), td); err != nil {
		t.Fatalf("Create(%q) = %v", td.ID, err)
	}
}

func testCreateGet(t *testing.T, s todo.Store) {
	want := newTodo("alice", 1)
	mustCreate(t, s, want)
	got, err := s.Get(t.Context(), "alice", want.ID)
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Get mismatch (-want +got):\n%s", diff)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
	if _, err := s.Get(t.Context(), "alice", todo.NewID()); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
}

func testOwnerIsolation(t *testing.T, s todo.Store) {
	ctx := t.Context()
	a := newTodo("alice", 1)
	mustCreate(t, s, a)
	mustCreate(t, s, newTodo("bob", 2))
	if _, err := s.Get(ctx, "bob", a.ID); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("Get(bob, alice's id) = %v, want ErrNotFound", err)
	}
	b := a
	b.Owner, b.Title, b.Version = "bob", "hijacked", 2
	if err := s.Update(ctx, b, 1); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("Update(bob, alice's id) = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "bob", a.ID); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("Delete(bob, alice's id) = %v, want ErrNotFound", err)
	}
	page, err := s.List(ctx, "bob", todo.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Todos) != 1 || page.Todos[0].Owner != "bob" {
		t.Errorf("List(bob) = %+v, want only bob's todo", page.Todos)
	}
	got, err := s.Get(ctx, "alice", a.ID)
	if err != nil || got.Title != a.Title {
		t.Errorf("alice's todo after bob's attempts = %+v, %v; want unchanged", got, err)
	}
}

func testDuplicate(t *testing.T, s todo.Store) {
	a := newTodo("alice", 1)
	mustCreate(t, s, a)
	if err := s.Create(t.Context(), a); !errors.Is(err, todo.ErrDuplicate) {
		t.Errorf("Create(same id) = %v, want ErrDuplicate", err)
	}
}

func ids(ts []todo.Todo) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func testListOrderAndPages(t *testing.T, s todo.Store) {
	ctx := t.Context()
	const n = 25
	var want []string // newest first
	for i := range n {
		td := newTodo("alice", i)
		mustCreate(t, s, td)
		want = append([]string{td.ID}, want...)
	}
	var got []string
	q := todo.Query{Limit: 10}
	pages := 0
	for {
		page, err := s.List(ctx, "alice", q)
		if err != nil {
			t.Fatalf("List = %v", err)
		}
		pages++
		if len(page.Todos) > 10 {
			t.Fatalf("page has %d todos, limit 10", len(page.Todos))
		}
		got = append(got, ids(page.Todos)...)
		if page.Next.IsZero() {
			break
		}
		if pages > n {
			t.Fatal("listing does not end")
		}
		q.After = page.Next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paged listing (-want +got):\n%s", diff)
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	// A limit equal to the count ends with no next cursor.
	page, err := s.List(ctx, "alice", todo.Query{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Todos) != n || !page.Next.IsZero() {
		t.Errorf("List(limit %d) = %d todos, next %+v; want %d and no next", n, len(page.Todos), page.Next, n)
	}
	empty, err := s.List(ctx, "nobody", todo.Query{Limit: 10})
	if err != nil || len(empty.Todos) != 0 || !empty.Next.IsZero() {
		t.Errorf("List(nobody) = %+v, %v; want empty", empty, err)
	}
}

func testListTies(t *testing.T, s todo.Store) {
	// Todos created in the same nanosecond still page without loss or
	// repetition: the id breaks the tie.
	var want []string
	for range 7 {
		td := newTodo("alice", 0)
		mustCreate(t, s, td)
		want = append(want, td.ID)
	}
	var got []string
	q := todo.Query{Limit: 3}
	for range 10 {
		page, err := s.List(t.Context(), "alice", q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids(page.Todos)...)
		if page.Next.IsZero() {
			break
		}
		q.After = page.Next
	}
	slices.Sort(want)
	slices.Reverse(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tied listing (-want +got):\n%s", diff)
	}
}

func testListCompleted(t *testing.T, s todo.Store) {
	ctx := t.Context()
	var done, open []string
	for i := range 6 {
		td := newTodo("alice", i)
		td.Completed = i%2 == 0
		mustCreate(t, s, td)
		if td.Completed {
			done = append([]string{td.ID}, done...)
		} else {
			open = append([]string{td.ID}, open...)
		}
	}
	for _, c := range []bool{true, false} {
		page, err := s.List(ctx, "alice", todo.Query{Completed: &c, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := open
		if c {
			want = done
		}
		if diff := cmp.Diff(want, ids(page.Todos)); diff != "" {
			t.Errorf("List(completed=%v) (-want +got):\n%s", c, diff)
		}
	}
}

func testUpdateCAS(t *testing.T, s todo.Store) {
	ctx := t.Context()
	a := newTodo("alice", 1)
	mustCreate(t, s, a)
	b := a
	b.Title, b.Completed, b.Version = "edited", true, 2
	b.UpdatedAt = a.UpdatedAt.Add(time.Minute)
	if err := s.Update(ctx, b, 1); err != nil {
		t.Fatalf("Update(prev 1) = %v", err)
	}
	got, err := s.Get(ctx, "alice", a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("after Update (-want +got):\n%s", diff)
	}
	stale := a
	stale.Title, stale.Version = "stale", 2
	if err := s.Update(ctx, stale, 1); !errors.Is(err, todo.ErrConflict) {
		t.Errorf("Update(stale prev) = %v, want ErrConflict", err)
	}
	missing := newTodo("alice", 9)
	if err := s.Update(ctx, missing, 1); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("Update(missing) = %v, want ErrNotFound", err)
	}
	if got, _ := s.Get(ctx, "alice", a.ID); got.Title != "edited" {
		t.Errorf("title after refused update = %q, want %q", got.Title, "edited")
	}
}

func testConcurrentUpdates(t *testing.T, s todo.Store) {
	ctx := context.WithoutCancel(t.Context())
	a := newTodo("alice", 1)
	mustCreate(t, s, a)
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			u := a
			u.Title, u.Version = fmt.Sprintf("writer %d", i), 2
			errs[i] = s.Update(ctx, u, 1)
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, todo.ErrConflict):
			t.Errorf("writer %d: Update = %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d writers won the same version, want exactly 1", wins)
	}
}

func testDelete(t *testing.T, s todo.Store) {
	ctx := t.Context()
	a := newTodo("alice", 1)
	mustCreate(t, s, a)
	if err := s.Delete(ctx, "alice", a.ID); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	if _, err := s.Get(ctx, "alice", a.ID); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "alice", a.ID); !errors.Is(err, todo.ErrNotFound) {
		t.Errorf("second Delete = %v, want ErrNotFound", err)
	}
}
