package todoapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"gatehouse/internal/problem"
	"gatehouse/internal/todo"
)

// MaxBodyBytes bounds a request body; larger bodies get 413.
const MaxBodyBytes = 1 << 20

// decodeDraft reads a {"title", "description"} body.
//
// Field names match exactly (encoding/json alone would also take "TITLE"),
// unknown fields are refused rather than ignored, and each wrong field is
// named, so a typo never silently loses input.
func decodeDraft(w http.ResponseWriter, r *http.Request) (todo.Draft, error) {
	if err := checkJSON(r.Header.Get("Content-Type")); err != nil {
		return todo.Draft{}, err
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return todo.Draft{}, &requestError{status: http.StatusRequestEntityTooLarge,
				detail: fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes)}
		}
		return todo.Draft{}, badRequest("The request body could not be read.")
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil {
		return todo.Draft{}, badJSON(err)
	}
	if dec.More() {
		return todo.Draft{}, badRequest("Malformed JSON: unexpected data after the object.")
	}
	if fields == nil {
		return todo.Draft{}, badRequest("Malformed JSON: the body must be a JSON object.")
	}
	var d todo.Draft
	var errs []problem.FieldError
	for name, raw := range fields {
		var dst *string
		switch name {
		case "title":
			dst = &d.Title
		case "description":
			dst = &d.Description
		default:
			errs = append(errs, problem.FieldError{Field: name, Message: "is not a known field (allowed: title, description)"})
			continue
		}
		if bytes.Equal(raw, []byte("null")) {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			errs = append(errs, problem.FieldError{Field: name, Message: "must be a string"})
		}
	}
	if errs != nil {
		slices.SortFunc(errs, func(a, b problem.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return todo.Draft{}, &requestError{status: http.StatusUnprocessableEntity,
			detail: "The todo is not valid; see errors.", fields: errs}
	}
	return d, nil
}

// checkJSON accepts application/json with no charset or UTF-8 (RFC 8259
// JSON is UTF-8) and refuses everything else with 415.
func checkJSON(ct string) error {
	refuse := &requestError{status: http.StatusUnsupportedMediaType,
		detail: "Send the body as Content-Type: application/json."}
	if ct == "" {
		return refuse
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return refuse
	}
	for k, v := range params {
		if k != "charset" || (v != "utf-8" && v != "UTF-8") {
			return refuse
		}
	}
	return nil
}

func badJSON(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return badRequest(fmt.Sprintf("Malformed JSON at byte %d.", se.Offset))
	}
	if errors.Is(err, io.EOF) {
		return badRequest("Malformed JSON: the body is empty.")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("Malformed JSON: the body ends too early.")
	}
	return badRequest("Malformed JSON: the body must be a JSON object.")
}
