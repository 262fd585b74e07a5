package idp_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"gatehouse/internal/idp"
)

// jwks fetches the provider's published key ids.
func (e *env) jwks(t *testing.T) []string {
	t.Helper()
	res, body := get(t, e.url+"/keys")
	if res.StatusCode != 200 {
		t.Fatalf("GET /keys = %d", res.StatusCode)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
			Alg string `json:"alg"`
			Use string `json:"use"`
			D   string `json:"d"`
		} `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		if k.Alg != "RS256" || k.Use != "sig" || k.D != "" {
			t.Errorf("JWKS key %+v: want a public RS256 signing key", k)
		}
		ids = append(ids, k.KID)
	}
	return ids
}

func TestKeysPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	withDir := func(c *idp.Config) { c.DataDir = dir }
	a := newEnv(t, withDir)
	first := a.jwks(t)
	if len(first) != 1 {
		t.Fatalf("JWKS = %v, want one key", first)
	}
	info, err := os.Stat(filepath.Join(dir, idp.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	// An ID token signed before the restart verifies after it.
	r := newRP(t, a, webID, webSecret, webCallback, oidc.ScopeOpenID)
	_, raw := exchange(t, a, r, "alice@example.com")

	b := newEnv(t, withDir)
	if got := b.jwks(t); !cmp.Equal(got, first) {
		t.Errorf("after restart JWKS = %v, want %v (the same key)", got, first)
	}
	rb := newRP(t, b, webID, webSecret, webCallback, oidc.ScopeOpenID)
	if _, err := rb.provider.Verifier(&oidc.Config{ClientID: webID, SkipIssuerCheck: true}).Verify(t.Context(), raw); err != nil {
		t.Errorf("ID token from before the restart: %v", err)
	}
}

func TestRotationKeepsPreviousKey(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, func(c *idp.Config) { c.DataDir = dir })
	old := e.jwks(t)[0]
	r := newRP(t, e, webID, webSecret, webCallback, oidc.ScopeOpenID)
	_, before := exchange(t, e, r, "alice@example.com")

	if err := e.p.Rotate(); err != nil {
		t.Fatal(err)
	}
	ids := e.jwks(t)
	if len(ids) != 2 || ids[1] != old || ids[0] == old {
		t.Fatalf("JWKS after Rotate = %v, want [new %s]", ids, old)
	}
	// Old tokens still verify; new ones carry the new kid.
	if _, err := r.verifier.Verify(t.Context(), before); err != nil {
		t.Errorf("ID token signed by the previous key: %v", err)
	}
	_, after := exchange(t, e, r, "bob@example.com")
	if kid := headerKID(t, after); kid != ids[0] {
		t.Errorf("new ID token signed by %q, want the new key %q", kid, ids[0])
	}
	// The rotation is on disk.
	e2 := newEnv(t, func(c *idp.Config) { c.DataDir = dir })
	if got := e2.jwks(t); !cmp.Equal(got, ids) {
		t.Errorf("after restart JWKS = %v, want %v", got, ids)
	}
	// Once its tokens have expired, the previous key is withdrawn.
	e2.clock.Advance(idp.KeyRetention)
	if got := e2.jwks(t); !cmp.Equal(got, ids[:1]) {
		t.Errorf("JWKS after KeyRetention = %v, want only %v", got, ids[:1])
	}
}

func TestAutomaticRotation(t *testing.T) {
	e := newEnv(t, nil)
	first := e.jwks(t)
	e.clock.Advance(idp.DefaultKeyRotationPeriod - time.Minute)
	if got := e.jwks(t); !cmp.Equal(got, first) {
		t.Fatalf("rotated before the period: %v", got)
	}
	e.clock.Advance(time.Minute)
	got := e.jwks(t)
	if len(got) != 2 || got[1] != first[0] {
		t.Fatalf("after the rotation period JWKS = %v, want [new %s]", got, first[0])
	}
	e.clock.Advance(idp.KeyRetention)
	if final := e.jwks(t); !cmp.Equal(final, got[:1]) {
		t.Errorf("after KeyRetention JWKS = %v, want %v", final, got[:1])
	}
}

func TestKeyFileMadePrivate(t *testing.T) {
	dir := t.TempDir()
	newEnv(t, func(c *idp.Config) { c.DataDir = dir })
	path := filepath.Join(dir, idp.KeyFile)
	os.Chmod(path, 0o644)
	e := newEnv(t, func(c *idp.Config) { c.DataDir = dir })
	info, _ := os.Stat(path)
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode after Open = %v, want 0600", info.Mode().Perm())
	}
	if !containsAll(e.logs.String(), "readable by others") {
		t.Errorf("no warning about the key file's mode")
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := idp.Open(t.Context(), idp.Config{Issuer: "http://127.0.0.1:1", DataDir: dir, Users: idp.DemoUsers(), Clients: testClients()}); err == nil ||
		!containsAll(err.Error(), idp.KeyFile, "delete it") {
		t.Errorf("corrupt key file: %v", err)
	}
}

func headerKID(t *testing.T, jwt string) string {
	t.Helper()
	var h struct {
		KID string `json:"kid"`
	}
	seg, _, _ := cutDot(jwt)
	b, err := decodeSegment(seg)
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("bad JWT header")
	}
	return h.KID
}
