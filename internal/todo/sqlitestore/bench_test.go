package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"gatehouse/internal/todo"
	"gatehouse/internal/todo/sqlitestore"
	"gatehouse/internal/todo/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) todo.Store {
		s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "todos.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
