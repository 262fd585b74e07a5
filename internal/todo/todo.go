// Package todo is the Todo domain: the Todo value, the Store interface every
// storage adapter implements, validation, and the Service that the HTTP API
// calls. It imports no driver and no net/http.
package todo

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"time"
)

// Todo is one item of an owner's list.
//
// Version increases by one on every successful write; it drives optimistic
// concurrency (compare-and-swap in the stores) and the HTTP ETag.
type Todo struct {
	ID          string
	Owner       string
	Title       string
	Description string
	Completed   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// Domain errors. Stores translate driver errors into these; the HTTP layer
// maps them to statuses.
var (
	// ErrNotFound means no todo with that id exists for that owner. A todo
	// of another owner is reported as not found, never as forbidden, so ids
	// of other owners cannot be probed.
	ErrNotFound = errors.New("todo not found")
	// ErrConflict means the todo changed since the version the caller had.
	ErrConflict = errors.New("todo was modified concurrently")
	// ErrDuplicate means a todo with that id already exists.
	ErrDuplicate = errors.New("todo id already exists")
	// ErrUnavailable wraps failures of the backing store (connection lost,
	// disk full, timeouts): the request may succeed later.
	ErrUnavailable = errors.New("store unavailable")
)

// Page is one page of a listing. Next is empty on the last page.
type Page struct {
	Todos []Todo
	Next  Cursor
}

// Cursor is the position after the last todo of a page: listings are ordered
// newest first by (CreatedAt, ID), so a cursor is that pair. The zero Cursor
// means "from the start".
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// IsZero reports whether c is the start of a listing.
func (c Cursor) IsZero() bool { return c.ID == "" }

// Query selects a page of an owner's todos.
type Query struct {
	// Completed, when non-nil, keeps only todos whose Completed equals it.
	Completed *bool
	// Limit is the page size, 1..MaxLimit; 0 means DefaultLimit.
	Limit int
	// After continues a previous listing.
	After Cursor
}

// Page sizes.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Store persists todos. Every method takes the owner, and a store never
// returns or changes a todo of another owner.
//
// Update is a compare-and-swap: it writes t only if the stored version of
// (t.Owner, t.ID) is prev, and returns ErrConflict otherwise (ErrNotFound if
// the todo does not exist). Writes are atomic: a failed call changes nothing.
type Store interface {
	Create(ctx context.Context, t Todo) error
	Get(ctx context.Context, owner, id string) (Todo, error)
	List(ctx context.Context, owner string, q Query) (Page, error)
	Update(ctx context.Context, t Todo, prev int64) error
	Delete(ctx context.Context, owner, id string) error
	// Ping reports whether the store answers; it backs /readyz.
	Ping(ctx context.Context) error
	Close() error
}

// idEncoding is lower-case base32 without padding: ids are URL-safe and
// case-insensitive-friendly.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a fresh todo id: 128 random bits, 26 characters. Ids are
// unguessable, so knowing one id tells nothing about another.
func NewID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand, Go 1.24+)
	return idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s has the shape of an id made by NewID. Anything
// else cannot exist and is answered as not found without asking the store.
func ValidID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
