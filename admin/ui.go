package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// uiFiles is the live view: one page, its script and its style sheet,
// built into the binary so that it works wherever cdnsteer runs.
//
//go:embed ui
var uiFiles embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

var assets = func() map[string]asset {
	types := map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	m := map[string]asset{}
	entries, err := fs.ReadDir(uiFiles, "ui")
	if err != nil {
		panic(err) // the embed directive guarantees the folder
	}
	for _, e := range entries {
		b, err := uiFiles.ReadFile("ui/" + e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(b)
		m[e.Name()] = asset{body: b, ctype: types[path.Ext(e.Name())], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return m
}()

// contentSecurityPolicy allows the page nothing but its own files and its
// own API: no inline script, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// registerUI adds the live view at / and its files under /ui/.
func registerUI(mux *http.ServeMux) {
	mux.Handle("/{$}", route{http.MethodGet: func(w http.ResponseWriter, r *http.Request) { serveAsset(w, r, "index.html") }})
	mux.Handle("/ui/{file}", route{http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if name == "index.html" {
			// One address for the page, so that bookmarks agree.
			http.Redirect(w, r, "/", http.StatusMovedPermanently)
			return
		}
		serveAsset(w, r, name)
	}})
}

func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := assets[name]
	if !ok {
		writeError(w, http.StatusNotFound, "no such file: "+r.URL.Path)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidate every time: after an upgrade the page and its script
	// must come from the same build. The ETag makes that a 304.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
