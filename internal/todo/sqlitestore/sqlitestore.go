// Package sqlitestore is the embedded default todo.Store: one SQLite file
// through the pure-Go modernc.org/sqlite driver, so there is nothing to
// install.
//
// The file runs in WAL mode with synchronous=NORMAL (durable across process
// crashes; a power loss may drop the last transactions but never corrupts
// the file) and a busy timeout. Writes go through a single connection so
// writers queue in Go instead of failing with SQLITE_BUSY; reads use a pool
// and never wait for writers.
package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"gatehouse/internal/todo"
)

const schema = `
CREATE TABLE IF NOT EXISTS todos (
	id          TEXT    NOT NULL PRIMARY KEY,
	owner       TEXT    NOT NULL,
	title       TEXT    NOT NULL,
	description TEXT    NOT NULL,
	completed   INTEGER NOT NULL,
	created_ns  INTEGER NOT NULL,
	updated_ns  INTEGER NOT NULL,
	version     INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS todos_by_owner ON todos (owner, created_ns DESC, id DESC);
CREATE INDEX IF NOT EXISTS todos_by_owner_completed ON todos (owner, completed, created_ns DESC, id DESC);
`

const columns = `id, owner, title, description, completed, created_ns, updated_ns, version`

// Store is a todo.Store in one SQLite file.
type Store struct {
	w, r *sql.DB

	insert, get, update, version, del *sql.Stmt
}

var _ todo.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path and applies the
// schema.
func Open(ctx context.Context, path string) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite store: path %q must not contain '?' or '#'", path)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(5000)&_txlock=immediate"
	w, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	if _, err := w.ExecContext(ctx, schema); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn+"&mode=ro")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	r.SetMaxOpenConns(max(4, 2*runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, 2*runtime.GOMAXPROCS(0)))
	s.r = r
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) prepare(ctx context.Context) error {
	stmts := []struct {
		dst **sql.Stmt
		db  *sql.DB
		sql string
	}{
		{&s.insert, s.w, `INSERT INTO todos (` + columns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&s.get, s.r, `SELECT ` + columns + ` FROM todos WHERE id = ? AND owner = ?`},
		{&s.update, s.w, `UPDATE todos SET title = ?, description = ?, completed = ?, updated_ns = ?, version = ?
			WHERE id = ? AND owner = ? AND version = ?`},
		{&s.version, s.w, `SELECT version FROM todos WHERE id = ? AND owner = ?`},
		{&s.del, s.w, `DELETE FROM todos WHERE id = ? AND owner = ?`},
	}
	for _, st := range stmts {
		p, err := st.db.PrepareContext(ctx, st.sql)
		if err != nil {
			return err
		}
		*st.dst = p
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.insert, s.get, s.update, s.version, s.del} {
		if st != nil {
			st.Close()
		}
	}
	var errR error
	if s.r != nil {
		errR = s.r.Close()
	}
	return errors.Join(s.w.Close(), errR)
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return unavailable(err)
	}
	return nil
}

// Create inserts t.
func (s *Store) Create(ctx context.Context, t todo.Todo) error {
	_, err := s.insert.ExecContext(ctx, t.ID, t.Owner, t.Title, t.Description, t.Completed,
		t.CreatedAt.UnixNano(), t.UpdatedAt.UnixNano(), t.Version)
	if isConstraint(err) {
		return todo.ErrDuplicate
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// Get returns the owner's todo with that id.
func (s *Store) Get(ctx context.Context, owner, id string) (todo.Todo, error) {
	t, err := scan(s.get.QueryRowContext(ctx, id, owner))
	if errors.Is(err, sql.ErrNoRows) {
		return todo.Todo{}, todo.ErrNotFound
	}
	if err != nil {
		return todo.Todo{}, unavailable(err)
	}
	return t, nil
}

// List returns a page of the owner's todos, newest first.
func (s *Store) List(ctx context.Context, owner string, q todo.Query) (todo.Page, error) {
	var b strings.Builder
	args := []any{owner}
	b.WriteString(`SELECT ` + columns + ` FROM todos WHERE owner = ?`)
	if q.Completed != nil {
		b.WriteString(` AND completed = ?`)
		args = append(args, *q.Completed)
	}
	if !q.After.IsZero() {
		b.WriteString(` AND (created_ns, id) < (?, ?)`)
		args = append(args, q.After.CreatedAt.UnixNano(), q.After.ID)
	}
	b.WriteString(` ORDER BY created_ns DESC, id DESC LIMIT ?`)
	args = append(args, q.Limit+1) // one more tells whether a next page exists
	rows, err := s.r.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return todo.Page{}, unavailable(err)
	}
	defer rows.Close()
	page := todo.Page{Todos: make([]todo.Todo, 0, min(q.Limit, 128))}
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return todo.Page{}, unavailable(err)
		}
		page.Todos = append(page.Todos, t)
	}
	if err := rows.Err(); err != nil {
		return todo.Page{}, unavailable(err)
	}
	if len(page.Todos) > q.Limit {
		page.Todos = page.Todos[:q.Limit]
		last := page.Todos[q.Limit-1]
		page.Next = todo.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

// Update writes t if its stored version is prev.
func (s *Store) Update(ctx context.Context, t todo.Todo, prev int64) error {
	res, err := s.update.ExecContext(ctx, t.Title, t.Description, t.Completed, t.UpdatedAt.UnixNano(),
		t.Version, t.ID, t.Owner, prev)
	if err != nil {
		return unavailable(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return unavailable(err)
	}
	if n == 1 {
		return nil
	}
	var v int64
	err = s.version.QueryRowContext(ctx, t.ID, t.Owner).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return todo.ErrNotFound
	}
	if err != nil {
		return unavailable(err)
	}
	return todo.ErrConflict
}

// Delete removes the owner's todo with that id.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	res, err := s.del.ExecContext(ctx, id, owner)
	if err != nil {
		return unavailable(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return unavailable(err)
	}
	if n == 0 {
		return todo.ErrNotFound
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(row scanner) (todo.Todo, error) {
	var t todo.Todo
	var created, updated int64
	err := row.Scan(&t.ID, &t.Owner, &t.Title, &t.Description, &t.Completed, &created, &updated, &t.Version)
	t.CreatedAt = time.Unix(0, created).UTC()
	t.UpdatedAt = time.Unix(0, updated).UTC()
	return t, err
}

func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// unavailable marks a driver failure as todo.ErrUnavailable, keeping the
// cause for the log.
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("sqlite: %w: %w", todo.ErrUnavailable, err)
}
