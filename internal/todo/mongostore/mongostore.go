// Package mongostore is a todo.Store on MongoDB, or on any server that
// speaks its wire protocol (FerretDB), through the official Go driver.
//
// Each todo is one document of the "todos" collection:
//
//	{_id: <todo id>, owner, title, description, completed: <bool>,
//	 created_ns: <int64>, updated_ns: <int64>, version: <int64>}
//
// Times are stored as Unix nanoseconds in 64-bit integers rather than BSON
// dates, which keep only milliseconds: created_ns is the listing's ordering
// key and a cursor must find exactly the todo it stopped at.
//
// The store uses only what FerretDB also offers: no transactions, no TTL,
// partial or text indexes. Update is a compare-and-swap on the version
// field; see Store.Update for how it stays one even where the server's
// update is not atomic.
package mongostore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/url"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"gatehouse/internal/todo"
)

// DefaultDatabase is the database used when Config.Database is empty.
const DefaultDatabase = "todoapi"

// collectionName is the collection that holds the todos.
const collectionName = "todos"

// closeTimeout bounds how long Close waits for the driver to return its
// connections.
const closeTimeout = 10 * time.Second

// Config configures the store. The zero value of every field but URI is a
// documented default.
type Config struct {
	// URI is the MongoDB connection string, for example
	// "mongodb://user:password@db.internal:27017/?authSource=admin".
	// Required. It may hold a password, so it never appears in an error.
	URI string
	// Database is the database that holds the "todos" collection;
	// empty means DefaultDatabase ("todoapi").
	Database string
}

// Store is a todo.Store in one MongoDB collection. It is safe for
// concurrent use.
type Store struct {
	client *mongo.Client
	db     *mongo.Database
	coll   *mongo.Collection

	// writeSlots serialise Updates and Deletes of one todo within this
	// process; see Update. Each is a one-slot semaphore, picked by hashing
	// the todo's id, so a waiter can give up when its context ends.
	writeSlots [64]chan struct{}
	lockSeed   maphash.Seed
}

var _ todo.Store = (*Store)(nil)

// document is the stored form of a todo.Todo.
type document struct {
	ID          string `bson:"_id"`
	Owner       string `bson:"owner"`
	Title       string `bson:"title"`
	Description string `bson:"description"`
	Completed   bool   `bson:"completed"`
	CreatedNS   int64  `bson:"created_ns"`
	UpdatedNS   int64  `bson:"updated_ns"`
	Version     int64  `bson:"version"`
}

func toDocument(t todo.Todo) document {
	return document{
		ID:          t.ID,
		Owner:       t.Owner,
		Title:       t.Title,
		Description: t.Description,
		Completed:   t.Completed,
		CreatedNS:   t.CreatedAt.UnixNano(),
		UpdatedNS:   t.UpdatedAt.UnixNano(),
		Version:     t.Version,
	}
}

func (d document) todo() todo.Todo {
	return todo.Todo{
		ID:          d.ID,
		Owner:       d.Owner,
		Title:       d.Title,
		Description: d.Description,
		Completed:   d.Completed,
		CreatedAt:   time.Unix(0, d.CreatedNS).UTC(),
		UpdatedAt:   time.Unix(0, d.UpdatedNS).UTC(),
		Version:     d.Version,
	}
}

// indexes serve List: one for an owner's listing, one for the listing
// filtered by completion. Both end in the full ordering key, so a page is
// an index range scan.
var indexes = []struct {
	name string
	keys bson.D
}{
	{"todos_by_owner", bson.D{{Key: "owner", Value: 1}, {Key: "created_ns", Value: -1}, {Key: "_id", Value: -1}}},
	{"todos_by_owner_completed", bson.D{{Key: "owner", Value: 1}, {Key: "completed", Value: 1},
		{Key: "created_ns", Value: -1}, {Key: "_id", Value: -1}}},
}

// Open connects to the server named by cfg.URI, checks that it answers
// (for as long as ctx allows, and at most the URI's server selection
// timeout, 30s by default) and creates the indexes if they are missing.
//
// Errors say which step failed but never contain the URI or its password:
// they end up in logs and on terminals.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URI == "" {
		return nil, errors.New("open mongodb store: no URI given")
	}
	if cfg.Database == "" {
		cfg.Database = DefaultDatabase
	}
	secrets := uriSecrets(cfg.URI)
	client, err := mongo.Connect(options.Client().ApplyURI(cfg.URI))
	if err != nil {
		return nil, fmt.Errorf("open mongodb store: parse URI: %w", redact(err, secrets))
	}
	fail := func(step string, err error) (*Store, error) {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = client.Disconnect(dctx) // the step's error is the one to report
		return nil, fmt.Errorf("open mongodb store: %s: %w", step, redact(err, secrets))
	}
	if err := client.Ping(ctx, nil); err != nil {
		return fail("ping", err)
	}
	db := client.Database(cfg.Database)
	coll := db.Collection(collectionName)
	// One command per index: FerretDB v1 crashes the connection when a
	// single createIndexes names two or more indexes that already exist,
	// which is every start-up after the first.
	for _, idx := range indexes {
		model := mongo.IndexModel{Keys: idx.keys, Options: options.Index().SetName(idx.name)}
		if _, err := coll.Indexes().CreateOne(ctx, model); err != nil {
			return fail(fmt.Sprintf("create index %s on %s.%s", idx.name, cfg.Database, collectionName), err)
		}
	}
	s := &Store{client: client, db: db, coll: coll, lockSeed: maphash.MakeSeed()}
	for i := range s.writeSlots {
		s.writeSlots[i] = make(chan struct{}, 1)
	}
	return s, nil
}

// Close disconnects from the server, waiting at most a few seconds for
// operations in flight.
func (s *Store) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("close mongodb store: %w", err)
	}
	return nil
}

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx, nil); err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

// Create inserts t.
func (s *Store) Create(ctx context.Context, t todo.Todo) error {
	_, err := s.coll.InsertOne(ctx, toDocument(t))
	if mongo.IsDuplicateKeyError(err) {
		return todo.ErrDuplicate
	}
	if err != nil {
		return unavailable(ctx, err)
	}
	return nil
}

// Get returns the owner's todo with that id.
func (s *Store) Get(ctx context.Context, owner, id string) (todo.Todo, error) {
	var d document
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return todo.Todo{}, todo.ErrNotFound
	}
	if err != nil {
		return todo.Todo{}, unavailable(ctx, err)
	}
	return d.todo(), nil
}

// List returns a page of the owner's todos, newest first. A Limit outside
// 1..todo.MaxLimit is brought into it as todo.Service does.
func (s *Store) List(ctx context.Context, owner string, q todo.Query) (todo.Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = todo.DefaultLimit
	}
	limit = min(limit, todo.MaxLimit)

	filter := bson.D{{Key: "owner", Value: owner}}
	if q.Completed != nil {
		filter = append(filter, bson.E{Key: "completed", Value: *q.Completed})
	}
	if !q.After.IsZero() {
		// (created_ns, _id) < (c, id), spelled out: no tuple comparison.
		c := q.After.CreatedAt.UnixNano()
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "created_ns", Value: bson.D{{Key: "$lt", Value: c}}}},
			bson.D{{Key: "created_ns", Value: c}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: q.After.ID}}}},
		}})
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "created_ns", Value: -1}, {Key: "_id", Value: -1}}).
		SetLimit(int64(limit) + 1) // one more tells whether a next page exists
	cur, err := s.coll.Find(ctx, filter, opts)
	if err != nil {
		return todo.Page{}, unavailable(ctx, err)
	}
	defer cur.Close(context.WithoutCancel(ctx))
	page := todo.Page{Todos: make([]todo.Todo, 0, min(limit+1, 128))}
	for cur.Next(ctx) {
		var d document
		if err := cur.Decode(&d); err != nil {
			return todo.Page{}, unavailable(ctx, err)
		}
		page.Todos = append(page.Todos, d.todo())
	}
	if err := cur.Err(); err != nil {
		return todo.Page{}, unavailable(ctx, err)
	}
	if len(page.Todos) > limit {
		page.Todos = page.Todos[:limit]
		last := page.Todos[limit-1]
		page.Next = todo.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return page, nil
}

// Update writes t if its stored version is prev.
//
// On MongoDB an UpdateOne whose filter names the version is an atomic
// compare-and-swap. FerretDB v1 runs the same command as a find followed by
// a write by _id, so two concurrent updates of one version can both match
// and both "win" (and an update racing a delete can report success). Writes
// of one todo are therefore also serialised within this process: that makes
// the swap atomic on FerretDB for a single gatehouse instance, and costs
// MongoDB only waits between writers whose ids share one of 64 lock slots.
// Several instances sharing one FerretDB v1 server can still lose an update.
func (s *Store) Update(ctx context.Context, t todo.Todo, prev int64) error {
	unlock, err := s.lock(ctx, t.ID)
	if err != nil {
		return err
	}
	defer unlock()

	key := bson.D{{Key: "_id", Value: t.ID}, {Key: "owner", Value: t.Owner}}
	filter := append(key[:len(key):len(key)], bson.E{Key: "version", Value: prev})
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "title", Value: t.Title},
		{Key: "description", Value: t.Description},
		{Key: "completed", Value: t.Completed},
		{Key: "updated_ns", Value: t.UpdatedAt.UnixNano()},
		{Key: "version", Value: t.Version},
	}}}
	res, err := s.coll.UpdateOne(ctx, filter, update)
	if err != nil {
		return unavailable(ctx, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	// Nothing matched: either the todo is gone (or is another owner's) or
	// its version moved on.
	err = s.coll.FindOne(ctx, key, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return todo.ErrNotFound
	}
	if err != nil {
		return unavailable(ctx, err)
	}
	return todo.ErrConflict
}

// lock takes the write slot of the todo with that id and returns its
// release, or ctx's error if ctx ends first.
func (s *Store) lock(ctx context.Context, id string) (unlock func(), err error) {
	slot := s.writeSlots[maphash.String(s.lockSeed, id)%uint64(len(s.writeSlots))]
	select {
	case slot <- struct{}{}:
		return func() { <-slot }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Delete removes the owner's todo with that id.
func (s *Store) Delete(ctx context.Context, owner, id string) error {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: owner}})
	if err != nil {
		return unavailable(ctx, err)
	}
	if res.DeletedCount == 0 {
		return todo.ErrNotFound
	}
	return nil
}

// unavailable marks a driver failure as todo.ErrUnavailable, keeping the
// cause for the log. The error of a cancelled or expired ctx passes through
// unchanged: the caller gave up, the store did not fail.
//
// Unlike sqlitestore, it asks ctx rather than only the error: the driver
// reports its own server selection timeout (a server that is down) as
// context.DeadlineExceeded even when the caller's context is fine, and that
// is precisely an unavailable store.
func unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return err
	}
	return fmt.Errorf("mongodb: %w: %w", todo.ErrUnavailable, err)
}

// uriSecrets returns the parts of a connection string that must not reach
// an error message: the whole URI, the password (as written and decoded)
// and the values of options that carry credentials. The driver's messages
// quote pieces of a URI it cannot parse, and Open's errors are logged.
func uriSecrets(uri string) []string {
	var secrets []string
	add := func(s string) {
		if s == "" {
			return
		}
		secrets = append(secrets, s)
		if dec, err := url.QueryUnescape(s); err == nil && dec != s {
			secrets = append(secrets, dec)
		}
	}
	add(uri)
	_, rest, ok := strings.Cut(uri, "://")
	if !ok {
		return secrets
	}
	hosts, query, _ := strings.Cut(rest, "?")
	if at := strings.LastIndex(hosts, "@"); at >= 0 {
		if _, password, ok := strings.Cut(hosts[:at], ":"); ok {
			add(password)
		}
	}
	for kv := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		k = strings.ToLower(k)
		if strings.Contains(k, "password") || k == "authmechanismproperties" {
			add(v)
		}
	}
	return secrets
}

// redact hides secrets in err's message; errors.Is and errors.As still see
// the original chain (whose own messages are not redacted: log err itself,
// not what it wraps).
func redact(err error, secrets []string) error {
	msg := err.Error()
	for _, s := range secrets {
		if strings.Contains(msg, s) {
			return &redactedError{err: err, secrets: secrets}
		}
	}
	return err
}

type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	// The whole URI comes first, so replacing the password inside it
	// cannot leave the rest of the URI behind.
	for _, s := range e.secrets {
		msg = strings.ReplaceAll(msg, s, "[redacted]")
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }
