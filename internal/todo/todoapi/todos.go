package todoapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/todo"
)

// todoJSON is the wire form of a todo.
type todoJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Completed   bool   `json:"completed"`
	CreatedAt   string `json:"created_at"`
	UpdatedAt   string `json:"updated_at"`
}

func toJSON(t todo.Todo) todoJSON {
	return todoJSON{
		ID:          t.ID,
		Title:       t.Title,
		Description: t.Description,
		Completed:   t.Completed,
		CreatedAt:   t.CreatedAt.UTC().Format(time.RFC3339Nano),
		UpdatedAt:   t.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
}

// etag is the todo's entity tag: its version, quoted (a strong tag).
func etag(t todo.Todo) string { return `"` + strconv.FormatInt(t.Version, 10) + `"` }

// ifMatch reads the If-Match header as the versions a write may apply to:
// nil when absent or "*" (the todo must merely exist), otherwise the
// versions listed. Weak or malformed tags match nothing, as RFC 9110's
// strong comparison requires.
func ifMatch(r *http.Request) []int64 {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" || h == "*" {
		return nil
	}
	versions := []int64{}
	for tag := range strings.SplitSeq(h, ",") {
		tag = strings.TrimSpace(tag)
		if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
			continue
		}
		if v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64); err == nil && v > 0 {
			versions = append(versions, v)
		}
	}
	return versions
}

func (a *API) writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) // the client may be gone; nothing to do about it
}

func (a *API) writeTodo(w http.ResponseWriter, status int, t todo.Todo) {
	w.Header().Set("ETag", etag(t))
	a.writeJSON(w, status, toJSON(t))
}

func (a *API) ownerOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	owner, err := a.owner(r)
	if err != nil {
		a.fail(w, r, &requestError{status: http.StatusUnauthorized, detail: "Sign in to use the todo list."})
		return "", false
	}
	return owner, true
}

// list answers GET /: a page of todos, newest first. A further page is
// announced in a Link header (RFC 8288, rel="next") carrying an opaque
// cursor; the body stays a plain array, as in the tutorial.
func (a *API) list(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.ownerOf(w, r)
	if !ok {
		return
	}
	q, err := parseQuery(r.URL.Query())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.svc.List(r.Context(), owner, q)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]todoJSON, len(page.Todos))
	for i, t := range page.Todos {
		out[i] = toJSON(t)
	}
	if !page.Next.IsZero() {
		next := url.Values{}
		if q.Completed != nil {
			next.Set("completed", strconv.FormatBool(*q.Completed))
		}
		next.Set("limit", strconv.Itoa(q.Limit))
		next.Set("cursor", encodeCursor(page.Next))
		w.Header().Set("Link", `</?`+next.Encode()+`>; rel="next"`)
	}
	a.writeJSON(w, http.StatusOK, out)
}

func parseQuery(v url.Values) (todo.Query, error) {
	q := todo.Query{Limit: todo.DefaultLimit}
	if s := v.Get("completed"); s != "" {
		switch s {
		case "true":
			q.Completed = new(true)
		case "false":
			q.Completed = new(false)
		default:
			return q, badRequest(`The completed parameter must be "true" or "false".`)
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > todo.MaxLimit {
			return q, badRequest("The limit parameter must be a whole number from 1 to " + strconv.Itoa(todo.MaxLimit) + ".")
		}
		q.Limit = n
	}
	if s := v.Get("cursor"); s != "" {
		c, ok := decodeCursor(s)
		if !ok {
			return q, badRequest("The cursor parameter is not one this API gave out.")
		}
		q.After = c
	}
	return q, nil
}

// A cursor is base64url("<created unix nanos>.<id>"): opaque to clients,
// cheap to check.
func encodeCursor(c todo.Cursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.CreatedAt.UnixNano(), 10) + "." + c.ID))
}

func decodeCursor(s string) (todo.Cursor, bool) {
	if len(s) > 128 {
		return todo.Cursor{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return todo.Cursor{}, false
	}
	ns, id, ok := strings.Cut(string(b), ".")
	if !ok || !todo.ValidID(id) {
		return todo.Cursor{}, false
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return todo.Cursor{}, false
	}
	return todo.Cursor{CreatedAt: time.Unix(0, n).UTC(), ID: id}, true
}

// create answers POST /.
func (a *API) create(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.ownerOf(w, r)
	if !ok {
		return
	}
	d, err := decodeDraft(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.svc.Create(r.Context(), owner, d)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/"+t.ID)
	a.writeTodo(w, http.StatusCreated, t)
}

// get answers GET /{id}.
func (a *API) get(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.ownerOf(w, r)
	if !ok {
		return
	}
	t, err := a.svc.Get(r.Context(), owner, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeTodo(w, http.StatusOK, t)
}

// edit answers PUT /{id}: it replaces title and description, honouring
// If-Match.
func (a *API) edit(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.ownerOf(w, r)
	if !ok {
		return
	}
	d, err := decodeDraft(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.svc.Edit(r.Context(), owner, r.PathValue("id"), d, ifMatch(r))
	a.writeUpdated(w, r, t, err)
}

// setCompleted answers POST /{id}/complete and /{id}/incomplete.
func (a *API) setCompleted(done bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		owner, ok := a.ownerOf(w, r)
		if !ok {
			return
		}
		t, err := a.svc.SetCompleted(r.Context(), owner, r.PathValue("id"), done, ifMatch(r))
		a.writeUpdated(w, r, t, err)
	}
}

// writeUpdated answers the outcome of an update; a conflict under If-Match
// is 412 Precondition Failed.
func (a *API) writeUpdated(w http.ResponseWriter, r *http.Request, t todo.Todo, err error) {
	if errors.Is(err, todo.ErrConflict) && ifMatch(r) != nil {
		err = errPreconditionFailed
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeTodo(w, http.StatusOK, t)
}

// delete answers DELETE /{id} with 204.
func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	owner, ok := a.ownerOf(w, r)
	if !ok {
		return
	}
	if err := a.svc.Delete(r.Context(), owner, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
