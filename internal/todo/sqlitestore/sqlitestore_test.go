package sqlitestore_test

import (
	"path/filepath"
	"testing"

	"gatehouse/internal/todo"
	"gatehouse/internal/todo/sqlitestore"
	"gatehouse/internal/todo/storetest"
)

func open(t *testing.T) todo.Store {
	s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "todos.db"))
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestDataSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "todos.db")
	s, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	svc := todo.NewService(s, nil)
	created, err := svc.Create(t.Context(), "alice", todo.Draft{Title: "persist me"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	s2, err := sqlitestore.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, err := s2.Get(t.Context(), "alice", created.ID)
	if err != nil {
		t.Fatalf("Get after reopen = %v", err)
	}
	if got.Title != "persist me" || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("after reopen got %+v, want %+v", got, created)
	}
}

func TestOpenRejectsURIMetacharacters(t *testing.T) {
	_, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "x?mode=memory"))
	if err == nil {
		t.Fatal("Open(path with '?') = nil error, want refusal")
	}
}
