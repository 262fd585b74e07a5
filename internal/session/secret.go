package session

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// DecodeSecret turns a --cookie-secret value into the secret for NewCodec,
// by oauth2-proxy's rule (encryption.SecretBytes), extended to standard
// base64:
//
//  1. With any trailing '=' removed, URL-safe base64 that decodes to 16, 24
//     or 32 bytes: the decoded bytes. This comes first, so a 32-character
//     string of base64url characters is a 24-byte secret, not a 32-byte one,
//     exactly as in oauth2-proxy.
//  2. A string of 16, 24 or 32 bytes: the bytes themselves.
//  3. With any trailing '=' removed, standard base64 (with '+' and '/') that
//     decodes to 16, 24 or 32 bytes: the decoded bytes. oauth2-proxy
//     rejects these; accepting them after rule 2 means no secret that
//     oauth2-proxy accepts changes meaning here.
//
// As in oauth2-proxy (it is Go's base64), '\r' and '\n' inside the value
// are ignored by the base64 rules. The error never contains the secret.
func DecodeSecret(s string) ([]byte, error) {
	unpadded := strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(unpadded); err == nil && validSecretLen(len(b)) {
		return b, nil
	}
	if validSecretLen(len(s)) {
		return []byte(s), nil
	}
	if b, err := base64.RawStdEncoding.DecodeString(unpadded); err == nil && validSecretLen(len(b)) {
		return b, nil
	}
	return nil, fmt.Errorf("must be 16, 24 or 32 bytes (raw) or base64 of them; got %d bytes", len(s))
}

func validSecretLen(n int) bool { return n == 16 || n == 24 || n == 32 }
