package session

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestEncodingRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		s    *Session
	}{
		{"Zero", &Session{}},
		{"Typical", testSession()},
		{"EmptyGroups", &Session{User: "u", Groups: []string{}}},
		{"EmptyStringsInGroups", &Session{Groups: []string{"", "a", ""}}},
		{"Binary", &Session{User: "\x00\xff\n", IDToken: strings.Repeat("\x80", 300)}},
		{"LocalTimes", &Session{
			CreatedAt: time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.FixedZone("X", -3600)),
			ExpiresOn: time.Unix(0, 0),
		}},
		{"AncientAndFar", &Session{
			CreatedAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
			ExpiresOn: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.s.MarshalBinary()
			if err != nil {
				t.Fatalf("MarshalBinary = %v", err)
			}
			if len(b) != tt.s.binarySize() {
				t.Errorf("len(MarshalBinary) = %d, binarySize = %d", len(b), tt.s.binarySize())
			}
			var got Session
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatalf("UnmarshalBinary = %v", err)
			}
			if diff := cmp.Diff(tt.s, &got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
			for _, at := range []time.Time{got.CreatedAt, got.ExpiresOn, got.RefreshedAt} {
				if !at.IsZero() && at.Location() != time.UTC {
					t.Errorf("decoded time in %v, want UTC", at.Location())
				}
			}
		})
	}
}

func TestEncodingIsCompact(t *testing.T) {
	s := testSession()
	b, _ := s.MarshalBinary()
	payload := len(s.ID) + len(s.User) + len(s.Email) + len(s.PreferredUsername) +
		len(s.IDToken) + len(s.AccessToken) + len(s.RefreshToken)
	for _, g := range s.Groups {
		payload += len(g)
	}
	// Overhead: a version byte, a length per string, three times.
	if overhead := len(b) - payload; overhead > 64 {
		t.Errorf("encoding overhead = %d bytes, want ≤ 64", overhead)
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := testSession().MarshalBinary()
	tests := []struct {
		name string
		data []byte
	}{
		{"Empty", nil},
		{"UnknownVersion", append([]byte{2}, good[1:]...)},
		{"TrailingByte", append(bytes.Clone(good), 0)},
		{"NonMinimalVarint", []byte{1, 0x80, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"LengthPastEnd", []byte{1, 50, 'a'}},
		{"HugeGroupCount", []byte{1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"VarintOverflow", append([]byte{1}, bytes.Repeat([]byte{0xff}, 11)...)},
		{"BadTimeTag", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0}},
		{"NanosecondsOutOfRange", []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0, 0}},
		{"ZeroTimeAsSet", append([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 1}, append(zigzagBytes(-62135596800), 0, 0, 0)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s Session
			if err := s.UnmarshalBinary(tt.data); err == nil {
				t.Errorf("UnmarshalBinary(%x) = nil, want an error", tt.data)
			}
		})
	}
	for i := range len(good) {
		var s Session
		if err := s.UnmarshalBinary(good[:i]); err == nil {
			t.Errorf("UnmarshalBinary(first %d of %d bytes) = nil, want an error", i, len(good))
		}
	}
}

func zigzagBytes(v int64) []byte { return binary.AppendUvarint(nil, zigzag(v)) }

// FuzzDecode checks that decoding arbitrary bytes never panics and that
// whatever decodes re-encodes to the same bytes (the decoder accepts only
// canonical encodings); and that sessions built from arbitrary values
// survive a round trip, through the encoding and through the Codec's
// plaintext.
func FuzzDecode(f *testing.F) {
	good, _ := testSession().MarshalBinary()
	zero, _ := (&Session{}).MarshalBinary()
	f.Add(good, "user", "eyJtoken", uint8(3), int64(1767225600), uint32(123456789))
	f.Add(zero, "", "", uint8(0), int64(0), uint32(0))
	f.Add([]byte{1, 0x80, 0}, "ü", "\x00", uint8(255), int64(-62135596800), uint32(999999999))
	f.Fuzz(func(t *testing.T, data []byte, user, token string, groups uint8, sec int64, nsec uint32) {
		var s Session
		if err := s.UnmarshalBinary(data); err == nil {
			again, _ := s.MarshalBinary()
			if !bytes.Equal(again, data) {
				t.Fatalf("decode(%x) re-encodes as %x", data, again)
			}
		}
		_, _, _ = decodePlaintext(string(data)) // must not panic

		at := time.Unix(sec, int64(nsec%1e9))
		want := &Session{
			ID: token[:len(token)/2], User: user, Email: user + "@example.com",
			IDToken: token, AccessToken: token + user, RefreshToken: user,
			CreatedAt: at, ExpiresOn: at.Add(time.Hour), RefreshedAt: at,
		}
		for i := range int(groups % 64) {
			want.Groups = append(want.Groups, user[:min(i, len(user))])
		}
		enc, _ := want.MarshalBinary()
		var got Session
		if err := got.UnmarshalBinary(enc); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary(%v)) = %v", want, err)
		}
		if !equalSessions(want, &got) {
			t.Fatalf("round trip mismatch (-want +got):\n%s", cmp.Diff(want, &got, cmpopts.EquateEmpty()))
		}
		pt := appendTime(nil, at)
		pt = want.appendBinary(pt)
		gotS, issued, err := decodePlaintext(string(pt))
		switch {
		case at.IsZero():
			if err == nil {
				t.Fatalf("decodePlaintext with a zero issue time = nil error")
			}
		case err != nil:
			t.Fatalf("decodePlaintext = %v", err)
		case !issued.Equal(at):
			t.Fatalf("issued = %v, want %v", issued, at)
		default:
			if !equalSessions(want, gotS) {
				t.Fatalf("plaintext round trip mismatch (-want +got):\n%s", cmp.Diff(want, gotS, cmpopts.EquateEmpty()))
			}
		}
	})
}

// equalSessions is cmp.Equal with cmpopts.EquateEmpty for Sessions,
// without reflection: fast enough to run on every fuzz input.
func equalSessions(a, b *Session) bool {
	return a.ID == b.ID && a.User == b.User && a.Email == b.Email &&
		a.PreferredUsername == b.PreferredUsername && slices.Equal(a.Groups, b.Groups) &&
		a.IDToken == b.IDToken && a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ExpiresOn.Equal(b.ExpiresOn) && a.RefreshedAt.Equal(b.RefreshedAt)
}

func testSession() *Session {
	at := time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)
	return &Session{
		ID:                "q5gGkW2bJ7l4F7o3w0kZ2g",
		User:              "248289761001",
		Email:             "jane.doe@example.com",
		PreferredUsername: "jane",
		Groups:            []string{"admins", "engineering", "oncall"},
		IDToken:           "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyNDgyODk3NjEwMDEifQ.c2lnbmF0dXJl",
		AccessToken:       "eyJhbGciOiJSUzI1NiJ9.eyJzY29wZSI6Im9wZW5pZCJ9.c2lnbmF0dXJl",
		RefreshToken:      "1//0refresh-token",
		CreatedAt:         at,
		ExpiresOn:         at.Add(time.Hour),
		RefreshedAt:       at.Add(30 * time.Minute),
	}
}
