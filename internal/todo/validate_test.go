package todo

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		in     Draft
		want   Draft
		fields []string // fields named in the error; nil means valid
	}{
		{"plain", Draft{"Buy milk", "2 litres"}, Draft{"Buy milk", "2 litres"}, nil},
		{"trimmed", Draft{"  Buy milk\t", "\n x \n"}, Draft{"Buy milk", "x"}, nil},
		{"200 characters in any script", Draft{strings.Repeat("日", 200), ""}, Draft{strings.Repeat("日", 200), ""}, nil},
		{"emoji count as characters", Draft{strings.Repeat("🙂", 200), strings.Repeat("ß", 2000)}, Draft{strings.Repeat("🙂", 200), strings.Repeat("ß", 2000)}, nil},
		{"multiline description", Draft{"t", "a\nb\tc"}, Draft{"t", "a\nb\tc"}, nil},
		{"empty title", Draft{"", ""}, Draft{}, []string{"title"}},
		{"blank title", Draft{" \t\n", ""}, Draft{}, []string{"title"}},
		{"201 characters", Draft{strings.Repeat("a", 201), ""}, Draft{}, []string{"title"}},
		{"2001 characters", Draft{"t", strings.Repeat("a", 2001)}, Draft{}, []string{"description"}},
		{"both wrong", Draft{"", strings.Repeat("a", 2001)}, Draft{}, []string{"title", "description"}},
		{"newline in title", Draft{"a\nb", ""}, Draft{}, []string{"title"}},
		{"escape in title", Draft{"a\x1b[31mb", ""}, Draft{}, []string{"title"}},
		{"NUL in description", Draft{"t", "a\x00b"}, Draft{}, []string{"description"}},
		{"invalid UTF-8", Draft{"a\xffb", ""}, Draft{}, []string{"title"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.Normalize()
			if tt.fields == nil {
				if err != nil || got != tt.want {
					t.Errorf("Normalize(%q) = %q, %v; want %q, nil", tt.in, got, err, tt.want)
				}
				return
			}
			ve, ok := err.(ValidationError)
			if !ok {
				t.Fatalf("Normalize(%q) error = %v, want ValidationError", tt.in, err)
			}
			var named []string
			for _, f := range ve {
				named = append(named, f.Field)
			}
			if strings.Join(named, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("Normalize(%q) names %v, want %v", tt.in, named, tt.fields)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("ValidID(NewID() = %q) = false", id)
		}
		if seen[id] {
			t.Fatalf("NewID repeated %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "short", strings.Repeat("A", 26), strings.Repeat("a", 25) + "1", strings.Repeat("a", 27), "../../../../etc/passwd12345"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}
