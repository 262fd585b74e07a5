package todoapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"gatehouse/internal/httpserver"
	"gatehouse/internal/problem"
	"gatehouse/internal/todo"
)

// requestError is an error the API itself detects in a request, with the
// status and the public text to answer.
type requestError struct {
	status int
	detail string
	fields []problem.FieldError
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string) error {
	return &requestError{status: http.StatusBadRequest, detail: detail}
}

func statusError(status int) error { return &requestError{status: status} }

// errPreconditionFailed answers a write whose If-Match no longer matches.
var errPreconditionFailed = &requestError{status: http.StatusPreconditionFailed,
	detail: "The todo was changed since you read it (If-Match does not match its ETag). Fetch it again and retry."}

// fail is the API's one error exit: it maps err to a status and a fixed
// public text, never err.Error() of an internal failure, and logs the
// cause with the request id that the client also sees.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := httpserver.RequestID(r.Context())
	d := problem.Details{RequestID: id}
	level := slog.LevelDebug
	var re *requestError
	var ve todo.ValidationError
	switch {
	case errors.As(err, &re):
		d.Status, d.Detail, d.Errors = re.status, re.detail, re.fields
	case errors.As(err, &ve):
		d.Status = http.StatusUnprocessableEntity
		d.Detail = "The todo is not valid; see errors."
		for _, f := range ve {
			d.Errors = append(d.Errors, problem.FieldError{Field: f.Field, Message: f.Message})
		}
	case errors.Is(err, todo.ErrNotFound):
		d.Status, d.Detail = http.StatusNotFound, "No todo has this id."
	case errors.Is(err, todo.ErrConflict):
		d.Status, d.Detail = http.StatusConflict, "The todo is being changed by other requests; retry."
	case errors.Is(err, todo.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		d.Status, d.Detail = http.StatusServiceUnavailable, "The todo store is not answering. Nothing was changed; retry shortly."
		w.Header().Set("Retry-After", "1")
		level = slog.LevelError
	case errors.Is(err, context.Canceled):
		d.Status, d.Detail = http.StatusServiceUnavailable, "The request was cancelled."
	default:
		d.Status, d.Detail = http.StatusInternalServerError, "The server failed to handle this request."
		level = slog.LevelError
	}
	if d.Status == http.StatusNotFound && d.Detail == "" {
		d.Detail = "There is nothing at this path."
	}
	if d.Status == http.StatusMethodNotAllowed && d.Detail == "" {
		d.Detail = "This path does not accept the " + r.Method + " method; see the Allow header."
	}
	a.log.LogAttrs(r.Context(), level, "request error",
		slog.String("request_id", id), slog.Int("status", d.Status), slog.Any("error", err))
	problem.Write(w, d)
}
