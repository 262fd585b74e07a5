package storetest

import (
	"testing"

	"gatehouse/internal/todo"
)

// Bench runs the store benchmarks: creating one todo, and listing a page
// of 100 among 10,000 todos of one owner (first page and a deep page).
func Bench(b *testing.B, open func(b *testing.B) todo.Store) {
	b.Run("Create", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := s.Create(b.Context(), newTodo("alice", i)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CreateParallel", func(b *testing.B) {
		s := open(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				i++
				if err := s.Create(b.Context(), newTodo("alice", i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("ListPage100Of10000", func(b *testing.B) {
		s := open(b)
		Seed(b, s, "alice", 10000)
		Seed(b, s, "bob", 1000)
		b.ReportAllocs()
		var deep todo.Cursor
		for b.Loop() {
			page, err := s.List(b.Context(), "alice", todo.Query{Limit: 100})
			if err != nil || len(page.Todos) != 100 {
				b.Fatalf("List = %d todos, %v", len(page.Todos), err)
			}
			deep = page.Next
		}
		_ = deep
	})
	b.Run("ListDeepPage100Of10000", func(b *testing.B) {
		s := open(b)
		Seed(b, s, "alice", 10000)
		page, err := s.List(b.Context(), "alice", todo.Query{Limit: 5000})
		if err != nil {
			b.Fatal(err)
		}
		q := todo.Query{Limit: 100, After: page.Next}
		b.ReportAllocs()
		for b.Loop() {
			page, err := s.List(b.Context(), "alice", q)
			if err != nil || len(page.Todos) != 100 {
				b.Fatalf("List = %d todos, %v", len(page.Todos), err)
			}
		}
	})
}

// Seed creates n todos of owner.
func Seed(tb testing.TB, s todo.Store, owner string, n int) {
	tb.Helper()
	for i := range n {
		if err := s.Create(tb.Context(), newTodo(owner, i)); err != nil {
			tb.Fatal(err)
		}
	}
}
