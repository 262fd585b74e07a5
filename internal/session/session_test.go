package session

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestIsExpiredAndAge(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		s           Session
		wantExpired bool
		wantAge     time.Duration
	}{
		{"Unknown", Session{}, false, 0},
		{"Valid", Session{ExpiresOn: now.Add(time.Second), CreatedAt: now.Add(-time.Hour)}, false, time.Hour},
		{"AtExpiry", Session{ExpiresOn: now}, false, 0},
		{"Expired", Session{ExpiresOn: now.Add(-time.Second)}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.IsExpired(now); got != tt.wantExpired {
				t.Errorf("IsExpired = %v, want %v", got, tt.wantExpired)
			}
			if got := tt.s.Age(now); got != tt.wantAge {
				t.Errorf("Age = %v, want %v", got, tt.wantAge)
			}
		})
	}
}

func TestClone(t *testing.T) {
	s := testSession()
	c := s.Clone()
	if diff := cmp.Diff(s, c); diff != "" {
		t.Fatalf("Clone mismatch (-want +got):\n%s", diff)
	}
	c.Groups[0] = "changed"
	if s.Groups[0] == "changed" {
		t.Error("Clone shares Groups with the original")
	}
}

func TestNewID(t *testing.T) {
	a, err := NewID(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewID(nil)
	if len(a) != 22 || a == b {
		t.Errorf("NewID = %q, %q; want two distinct 22-character IDs", a, b)
	}
	got, _ := NewID(bytes.NewReader(make([]byte, 16)))
	if got != "AAAAAAAAAAAAAAAAAAAAAA" {
		t.Errorf("NewID(zeros) = %q", got)
	}
	if _, err := NewID(iotest.ErrReader(fmt.Errorf("boom"))); err == nil {
		t.Error("NewID(failing reader) = nil error")
	}
}

// TestTokensNeverPrinted: every way a Session is likely to reach a log
// keeps its tokens out.
func TestTokensNeverPrinted(t *testing.T) {
	s := testSession()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "session", s, "value", *s)
	outputs := map[string]string{
		"%v":       fmt.Sprintf("%v", s),
		"%+v":      fmt.Sprintf("%+v", s),
		"%#v":      fmt.Sprintf("%#v", s),
		"%v deref": fmt.Sprintf("%v", *s),
		"%d":       fmt.Sprintf("%d", s),
		"%x deref": fmt.Sprintf("%x", *s),
		"nested":   fmt.Sprintf("%+v", struct{ S *Session }{s}),
		"slog":     logged.String(),
	}
	for how, out := range outputs {
		for _, tok := range []string{s.IDToken, s.AccessToken, s.RefreshToken} {
			if strings.Contains(out, tok) {
				t.Errorf("%s prints a token: %s", how, out)
			}
		}
		if !strings.Contains(out, s.User) {
			t.Errorf("%s omits the user: %s", how, out)
		}
	}
}
