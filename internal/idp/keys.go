package idp

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// KeyFile is the name of the signing-key file in Config.DataDir.
const KeyFile = "idp-signing-keys.json"

// keyBits is the RSA modulus size. RS256 is the one algorithm every
// OpenID client must accept (OpenID Connect Core 1.0 section 15.1).
const keyBits = 2048

// keyring holds the signing keys: the newest signs, and keys it replaced
// stay published until every token they signed has expired. Rotation is
// lazy: the first use after the current key's period has passed makes a
// new key (and writes the file), so no goroutine is needed.
type keyring struct {
	keyringConfig
	path string // "" keeps the keys in memory only

	mu   sync.Mutex
	keys []*signingKey // oldest first; the last one signs
}

type keyringConfig struct {
	period time.Duration // <= 0: only rotate() replaces the key
	retain time.Duration
	now    func() time.Time
	log    *slog.Logger
}

// signingKey is one RSA key; it is an op.SigningKey.
type signingKey struct {
	id      string
	created time.Time
	retired time.Time // zero while it signs
	private *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.private }
func (k *signingKey) ID() string                                  { return k.id }

// publicKey is the published half of a signing key; it is an op.Key.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.private.PublicKey }

var (
	_ op.SigningKey = (*signingKey)(nil)
	_ op.Key        = publicKey{}
)

func generateKey(now time.Time) (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	return newSigningKey(priv, now)
}

// newSigningKey names a key by its RFC 7638 thumbprint, so the same key
// always has the same kid.
func newSigningKey(priv *rsa.PrivateKey, created time.Time) (*signingKey, error) {
	tp, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("key thumbprint: %w", err)
	}
	return &signingKey{id: base64.RawURLEncoding.EncodeToString(tp), created: created, private: priv}, nil
}

func newMemoryKeyring(cfg keyringConfig) (*keyring, error) {
	k, err := generateKey(cfg.now())
	if err != nil {
		return nil, err
	}
	return &keyring{keyringConfig: cfg, keys: []*signingKey{k}}, nil
}

// openKeyring loads the key file in dir, or creates it with a first key.
func openKeyring(dir string, cfg keyringConfig) (*keyring, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	kr := &keyring{keyringConfig: cfg, path: filepath.Join(dir, KeyFile)}
	keys, err := kr.load()
	if errors.Is(err, fs.ErrNotExist) {
		k, err := generateKey(cfg.now())
		if err != nil {
			return nil, err
		}
		kr.keys = []*signingKey{k}
		if err := kr.save(); err != nil {
			return nil, err
		}
		cfg.log.Info("created a signing key", "kid", k.id, "file", kr.path)
		return kr, nil
	}
	if err != nil {
		return nil, err
	}
	kr.keys = keys
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.maintainLocked()
	return kr, nil
}

// keyFile is the JSON of the key file.
type keyFile struct {
	Comment string      `json:"comment"`
	Keys    []keyRecord `json:"keys"` // oldest first; the last one signs
}

type keyRecord struct {
	ID         string    `json:"kid"`
	Created    time.Time `json:"created"`
	Retired    time.Time `json:"retired,omitzero"`
	PrivateKey string    `json:"private_key"` // PKCS #8, PEM
}

func (kr *keyring) load() ([]*signingKey, error) {
	info, err := os.Stat(kr.path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		// The file holds private keys: whoever reads it can sign tokens.
		if err := os.Chmod(kr.path, 0o600); err != nil {
			return nil, fmt.Errorf("key file %s is readable by others (mode %v) and could not be made private: %w", kr.path, info.Mode().Perm(), err)
		}
		kr.log.Warn("signing-key file was readable by others; made it private (mode 0600)", "file", kr.path, "was", info.Mode().Perm().String())
	}
	b, err := os.ReadFile(kr.path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("key file %s: %w; delete it to start over with a new key (clients fetch the new JWKS by themselves)", kr.path, fmt.Errorf(format, a...))
	}
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, corrupt("not valid JSON: %w", err)
	}
	if len(f.Keys) == 0 {
		return nil, corrupt("no keys")
	}
	var keys []*signingKey
	for i, r := range f.Keys {
		block, _ := pem.Decode([]byte(r.PrivateKey))
		if block == nil {
			return nil, corrupt("keys[%d]: private_key is not PEM", i)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, corrupt("keys[%d]: %w", i, err)
		}
		priv, ok := parsed.(*rsa.PrivateKey)
		if !ok {
			return nil, corrupt("keys[%d]: not an RSA key", i)
		}
		k, err := newSigningKey(priv, r.Created)
		if err != nil {
			return nil, corrupt("keys[%d]: %w", i, err)
		}
		if r.ID != k.id {
			return nil, corrupt("keys[%d]: kid %q does not match the key (%q)", i, r.ID, k.id)
		}
		k.retired = r.Retired
		keys = append(keys, k)
	}
	if !keys[len(keys)-1].retired.IsZero() {
		return nil, corrupt("the last key is retired, so none signs")
	}
	return keys, nil
}

// save writes the key file atomically with mode 0600: a temporary file
// in the same directory, synced, then renamed over the old one.
func (kr *keyring) save() error {
	if kr.path == "" {
		return nil
	}
	f := keyFile{Comment: "Signing keys of gatehouse idp. Private: whoever reads this file can sign tokens."}
	for _, k := range kr.keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.private)
		if err != nil {
			return fmt.Errorf("encode signing key: %w", err)
		}
		f.Keys = append(f.Keys, keyRecord{ID: k.id, Created: k.created.UTC(), Retired: k.retired.UTC(),
			PrivateKey: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(kr.path), ".idp-signing-keys-*.tmp")
	if err != nil {
		return fmt.Errorf("write key file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(append(b, '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), kr.path)
	}
	if err != nil {
		return fmt.Errorf("write key file %s: %w", kr.path, err)
	}
	return nil
}

// maintainLocked rotates the current key when its period is over and
// drops retired keys nobody needs any more.
func (kr *keyring) maintainLocked() {
	now := kr.now()
	cur := kr.keys[len(kr.keys)-1]
	if kr.period > 0 && now.Sub(cur.created) >= kr.period {
		if err := kr.rotateLocked(now); err != nil {
			// The new key signs anyway (tokens keep working); after a
			// restart the old file's key is loaded and rotated again.
			kr.log.Error("signing key rotated but not saved", "error", err)
		}
		return
	}
	kr.pruneLocked(now)
}

func (kr *keyring) pruneLocked(now time.Time) {
	kr.keys = slices.DeleteFunc(kr.keys, func(k *signingKey) bool {
		return !k.retired.IsZero() && now.Sub(k.retired) >= kr.retain
	})
}

// rotateLocked makes a new current key; the old one is retired now and
// stays published for retain. If the file cannot be written the new key
// signs anyway and the error is returned.
func (kr *keyring) rotateLocked(now time.Time) error {
	k, err := generateKey(now)
	if err != nil {
		return err
	}
	old := kr.keys[len(kr.keys)-1]
	old.retired = now
	kr.keys = append(kr.keys, k)
	kr.pruneLocked(now)
	kr.log.Info("signing key rotated", "kid", k.id, "previous_kid", old.id, "previous_published_until", now.Add(kr.retain))
	return kr.save()
}

func (kr *keyring) rotate() error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	return kr.rotateLocked(kr.now())
}

// signing returns the key that signs now.
func (kr *keyring) signing() *signingKey {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.maintainLocked()
	return kr.keys[len(kr.keys)-1]
}

// published returns the keys of the JWKS, the signing key first.
func (kr *keyring) published() []op.Key {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kr.maintainLocked()
	out := make([]op.Key, 0, len(kr.keys))
	for i := len(kr.keys) - 1; i >= 0; i-- {
		out = append(out, publicKey{kr.keys[i]})
	}
	return out
}
