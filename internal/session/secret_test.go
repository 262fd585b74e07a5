package session

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeSecret(t *testing.T) {
	b16 := []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\xfb\xff")
	b32 := bytes.Repeat([]byte{0xfb, 0xef, 0xbe}, 11)[:32] // encodes with + and / (- and _)
	tests := []struct {
		name   string
		in     string
		want   []byte
		errLen int // when > 0, the error reports this many bytes
	}{
		{"URLSafePadded", base64.URLEncoding.EncodeToString(b32), b32, 0},
		{"URLSafeUnpadded", base64.RawURLEncoding.EncodeToString(b32), b32, 0},
		{"URLSafe16", base64.URLEncoding.EncodeToString(b16), b16, 0},
		{"StdPadded", base64.StdEncoding.EncodeToString(b32), b32, 0},
		{"StdUnpadded", base64.RawStdEncoding.EncodeToString(b32), b32, 0},
		{"Raw16", "0123456789abcdef", []byte("0123456789abcdef"), 0},
		{"Raw24", "abc+/def-_ghABC+/DEF-_GH", []byte("abc+/def-_ghABC+/DEF-_GH"), 0},
		{"Raw32NonBase64", "0123456789abcdef!123456789abcdef", []byte("0123456789abcdef!123456789abcdef"), 0},
		// oauth2-proxy: a 32-character base64url string is base64 of 24 bytes.
		{"Base64WinsOverRaw", strings.Repeat("abcd", 8), mustDecode(strings.Repeat("abcd", 8)), 0},
		// oauth2-proxy: 32 raw bytes that happen to be standard base64 stay raw.
		{"RawWinsOverStd", strings.Repeat("ab+/", 8), []byte(strings.Repeat("ab+/", 8)), 0},
		{"Empty", "", nil, -1},
		{"TooShort", "short", nil, 5},
		{"Base64OfWrongLength", base64.URLEncoding.EncodeToString(make([]byte, 20)), nil, 28},
		{"Raw33", strings.Repeat("x", 33), nil, 33},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSecret(tt.in)
			if tt.errLen != 0 {
				if err == nil {
					t.Fatalf("DecodeSecret(%q) = %x, want an error", tt.in, got)
				}
				if tt.in != "" && strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q contains the secret", err)
				}
				if !strings.HasPrefix(err.Error(), "must be 16, 24 or 32 bytes (raw) or base64 of them; got ") {
					t.Errorf("error = %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodeSecret(%q) = %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeSecret(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func mustDecode(s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
