package todoapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"gatehouse/internal/todo"
)

// FuzzDecodeDraft feeds arbitrary bodies to the request decoder: it must
// never panic, and whatever it accepts must normalize to a valid todo or
// be refused by validation, never something in between.
func FuzzDecodeDraft(f *testing.F) {
	for _, s := range []string{
		`{"title":"a"}`, `{"title":"a","description":"b"}`, `{"title":null}`, `{"TITLE":"a"}`,
		`{"title":"a"} x`, `[]`, `null`, `{"title":5}`, `{"title":"\u0000"}`, `{"title":"` + strings.Repeat("é", 201) + `"}`,
		`{"title":"a","title":"b"}`, "{\"title\":\"\xff\"}", `{"description":{"a":1}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		d, err := decodeDraft(httptest.NewRecorder(), r)
		if err != nil {
			if _, ok := err.(*requestError); !ok {
				t.Fatalf("decodeDraft error %T %v, want *requestError", err, err)
			}
			return
		}
		n, err := d.Normalize()
		if err != nil {
			return
		}
		if n.Title == "" || utf8.RuneCountInString(n.Title) > todo.MaxTitleLen || !utf8.ValidString(n.Title) {
			t.Fatalf("accepted invalid title %q", n.Title)
		}
		if utf8.RuneCountInString(n.Description) > todo.MaxDescriptionLen || !utf8.ValidString(n.Description) {
			t.Fatalf("accepted invalid description %q", n.Description)
		}
	})
}

// FuzzCursor: any cursor string either is refused or round-trips.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(todo.Cursor{ID: todo.NewID()}))
	f.Add("Zm9vLmJhcg")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := decodeCursor(s)
		if !ok {
			return
		}
		if !todo.ValidID(c.ID) {
			t.Fatalf("decodeCursor(%q) accepted id %q", s, c.ID)
		}
		if back, ok := decodeCursor(encodeCursor(c)); !ok || back != c {
			t.Fatalf("cursor %q does not round-trip: %+v vs %+v", s, back, c)
		}
	})
}
