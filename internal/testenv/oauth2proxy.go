package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// OAuth2ProxyBinEnv names the oauth2-proxy executable tests run (a path, or
// a name on PATH). Without it, bin/oauth2-proxy at the repository root is
// used.
const OAuth2ProxyBinEnv = "GATEHOUSE_OAUTH2_PROXY_BIN"

const oauth2ProxyHint = "build it: make bin/oauth2-proxy (or set " + OAuth2ProxyBinEnv + ")"

// OAuth2ProxyBin returns the path of a real oauth2-proxy, built from
// tools/oauth2proxy, for tests that check gatehouse against a standard OIDC
// client that is not ours. It is the executable named by OAuth2ProxyBinEnv
// if set, else bin/oauth2-proxy at the repository root. When there is
// neither, it calls Require(t, "oauth2-proxy", …).
//
// oauth2-proxy is its own module and runs only as a separate program, so
// none of its dependencies enter gatehouse's dependency graph.
func OAuth2ProxyBin(t testing.TB) string {
	t.Helper()
	if name := os.Getenv(OAuth2ProxyBinEnv); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			Require(t, "oauth2-proxy", fmt.Sprintf("%s=%q is not an executable (%v); %s", OAuth2ProxyBinEnv, name, err, oauth2ProxyHint))
			return ""
		}
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		Require(t, "oauth2-proxy", fmt.Sprintf("working directory: %v; %s", err, oauth2ProxyHint))
		return ""
	}
	root, err := repoRoot(wd)
	if err != nil {
		Require(t, "oauth2-proxy", fmt.Sprintf("%v; %s", err, oauth2ProxyHint))
		return ""
	}
	path := filepath.Join(root, "bin", "oauth2-proxy")
	if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		Require(t, "oauth2-proxy", fmt.Sprintf("no executable %s; %s", path, oauth2ProxyHint))
		return ""
	}
	return path
}
