package player

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
)

// InstallHint says how to install the players, for messages.
const InstallHint = "cd web/players && npm ci   (or give the demo -players DIR / CDNSTEER_PLAYERS=DIR, a node_modules folder with hls.js and dashjs)"

// library is one player's package in node_modules and its browser build.
type library struct {
	pkg, file string
}

// libraries are the players the pages load, by the name under /lib/.
var libraries = map[string]library{
	"hls.js":  {pkg: "hls.js", file: "dist/hls.min.js"},
	"dash.js": {pkg: "dashjs", file: "dist/modern/umd/dash.all.min.js"},
}

// version reads the installed package's version, or says how to install.
func (l library) version(modules string) (string, error) {
	b, err := os.ReadFile(filepath.Join(modules, l.pkg, "package.json"))
	if err != nil {
		return "", fmt.Errorf("%s is not installed in %s: %s", l.pkg, modules, InstallHint)
	}
	var v struct{ Version string }
	if err := json.Unmarshal(b, &v); err != nil || v.Version == "" {
		return "", fmt.Errorf("%s in %s has no version: reinstall it (%s)", l.pkg, modules, InstallHint)
	}
	return v.Version, nil
}

// library serves a player's browser build from node_modules, or a 404
// that says how to install it.
func (s *Site) library(w http.ResponseWriter, r *http.Request) {
	l, ok := libraries[r.PathValue("lib")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	p := filepath.Join(s.cfg.Players, l.pkg, filepath.FromSlash(l.file))
	f, err := os.Open(p)
	if err != nil {
		http.Error(w, l.pkg+" is not installed ("+p+" missing): "+InstallHint, http.StatusNotFound)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		http.Error(w, p+" is not a file", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}
