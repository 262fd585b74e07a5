package todo

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field limits, in characters (Unicode code points), not bytes: a
// 200-character title is accepted in any script.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 2000
)

// Draft is what a client may set on a todo.
type Draft struct {
	Title       string
	Description string
}

// FieldError says what is wrong with one field.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists every problem with an input at once.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("invalid todo:")
	for i, f := range v {
		if i > 0 {
			b.WriteString(";")
		}
		fmt.Fprintf(&b, " %s %s", f.Field, f.Message)
	}
	return b.String()
}

// Normalize trims surrounding white space from d and checks it. It returns
// a ValidationError naming every field that is wrong.
func (d Draft) Normalize() (Draft, error) {
	d.Title = strings.TrimSpace(d.Title)
	d.Description = strings.TrimSpace(d.Description)
	var errs ValidationError
	if msg := checkText(d.Title, MaxTitleLen, false); msg != "" {
		errs = append(errs, FieldError{"title", msg})
	} else if d.Title == "" {
		errs = append(errs, FieldError{"title", "is required and must not be blank"})
	}
	if msg := checkText(d.Description, MaxDescriptionLen, true); msg != "" {
		errs = append(errs, FieldError{"description", msg})
	}
	if errs != nil {
		return d, errs
	}
	return d, nil
}

// checkText returns what is wrong with s, or "". Control characters are
// refused (they hide text in terminals and logs); a description may keep
// line breaks and tabs.
func checkText(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("must be at most %d characters, got %d", max, n)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}
