package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// files holds the page templates and the static assets; the binary needs
// nothing else (no CDN, no web fonts, no build step).
//
//go:embed templates/*.html static/*
var files embed.FS

// contentTypes are the types of the static assets, by extension. Set
// explicitly rather than from the system's MIME table, which differs from
// machine to machine; an unknown extension is refused at start-up.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// asset is one static file.
type asset struct {
	body        []byte
	hash        string // hex SHA-256 prefix: the version in its URL and its ETag
	contentType string
}

type assets map[string]asset

func loadAssets() (assets, error) {
	entries, err := fs.ReadDir(files, "static")
	if err != nil {
		return nil, fmt.Errorf("read embedded assets: %w", err)
	}
	out := assets{}
	for _, e := range entries {
		body, err := files.ReadFile("static/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read embedded asset %s: %w", e.Name(), err)
		}
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			return nil, fmt.Errorf("embedded asset %s: no content type for its extension", e.Name())
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{body: body, hash: hex.EncodeToString(sum[:6]), contentType: ct}
	}
	return out, nil
}

// url is the template function "asset": the versioned URL of a static
// file. The version changes with the content, so the file can be cached
// for a year and a new binary is still seen at once.
func (a assets) url(name string) (template.URL, error) {
	f, ok := a[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return template.URL("/static/" + name + "?v=" + f.hash), nil
}

// static answers GET /static/{name}. The versioned URL is immutable; any
// other (a stale or missing ?v=) must revalidate, against the ETag.
func (s *server) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, ok := s.assets[name]
	if !ok {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", `"`+f.hash+`"`)
	if r.URL.Query().Get("v") == f.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
}
