package cli

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestSecuritySecretsFilePrivate: secrets.json holds the cookie secret
// (whoever reads it can forge any session) and the client secret. The
// idp's signing-key file is made private when found readable by others
// (keys.go); secrets.json is read as it is, and os.WriteFile keeps the
// mode of an existing file, so a file created by an editor, a backup
// restore or a container volume with mode 0644 stays world-readable.
func TestSecuritySecretsFilePrivate(t *testing.T) {
	for name, content := range map[string]string{
		"complete":   `{"cookie_secret":"0123456789abcdef0123456789abcdef","client_secret":"c"}`,
		"incomplete": `{"cookie_secret":""}`, // completed and rewritten by loadSecrets
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "secrets.json")
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, 0o644) // whatever the umask
			if _, err := loadSecrets(dir, slog.New(slog.DiscardHandler)); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if perm := info.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("secrets.json is %v after loadSecrets: the cookie secret is readable by other local users", perm)
			}
		})
	}
}
