package todo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Service applies the Todo rules on top of a Store: validation, ids, clock
// and optimistic concurrency. Every call takes the owner; the HTTP layer
// decides who that is.
type Service struct {
	store Store
	now   func() time.Time
}

// NewService returns a Service over s. now may be nil for time.Now.
func NewService(s Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: s, now: now}
}

// maxRetries bounds the read-modify-write loop of unconditional updates
// racing with other writers.
const maxRetries = 16

// Create validates d and stores a new todo.
func (s *Service) Create(ctx context.Context, owner string, d Draft) (Todo, error) {
	d, err := d.Normalize()
	if err != nil {
		return Todo{}, err
	}
	now := s.now().UTC()
	t := Todo{
		ID:          NewID(),
		Owner:       owner,
		Title:       d.Title,
		Description: d.Description,
		CreatedAt:   now,
		UpdatedAt:   now,
		Version:     1,
	}
	if err := s.store.Create(ctx, t); err != nil {
		return Todo{}, fmt.Errorf("create todo: %w", err)
	}
	return t, nil
}

// Get returns one todo.
func (s *Service) Get(ctx context.Context, owner, id string) (Todo, error) {
	if !ValidID(id) {
		return Todo{}, ErrNotFound
	}
	return s.store.Get(ctx, owner, id)
}

// List returns a page of the owner's todos, newest first.
func (s *Service) List(ctx context.Context, owner string, q Query) (Page, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		q.Limit = MaxLimit
	}
	return s.store.List(ctx, owner, q)
}

// Delete removes one todo.
func (s *Service) Delete(ctx context.Context, owner, id string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	return s.store.Delete(ctx, owner, id)
}

// Edit replaces the title and description. If ifMatch is non-nil the edit
// applies only if the todo's version is one of ifMatch and fails with
// ErrConflict otherwise, so two clients cannot silently overwrite each
// other. A nil ifMatch retries on concurrent writes (last writer wins).
func (s *Service) Edit(ctx context.Context, owner, id string, d Draft, ifMatch []int64) (Todo, error) {
	d, err := d.Normalize()
	if err != nil {
		return Todo{}, err
	}
	return s.modify(ctx, owner, id, ifMatch, func(t *Todo) {
		t.Title, t.Description = d.Title, d.Description
	})
}

// SetCompleted marks a todo completed or not; see Edit for ifMatch.
func (s *Service) SetCompleted(ctx context.Context, owner, id string, completed bool, ifMatch []int64) (Todo, error) {
	return s.modify(ctx, owner, id, ifMatch, func(t *Todo) { t.Completed = completed })
}

// modify is the read-modify-compare-and-swap loop shared by every update.
func (s *Service) modify(ctx context.Context, owner, id string, ifMatch []int64, change func(*Todo)) (Todo, error) {
	if !ValidID(id) {
		return Todo{}, ErrNotFound
	}
	for range maxRetries {
		t, err := s.store.Get(ctx, owner, id)
		if err != nil {
			return Todo{}, err
		}
		if ifMatch != nil && !slices.Contains(ifMatch, t.Version) {
			return Todo{}, ErrConflict
		}
		prev := t.Version
		change(&t)
		t.Version++
		t.UpdatedAt = s.now().UTC()
		if t.UpdatedAt.Before(t.CreatedAt) {
			t.UpdatedAt = t.CreatedAt
		}
		err = s.store.Update(ctx, t, prev)
		if errors.Is(err, ErrConflict) && ifMatch == nil {
			continue // another writer won the race; read again
		}
		if err != nil {
			return Todo{}, err
		}
		return t, nil
	}
	return Todo{}, ErrConflict
}
