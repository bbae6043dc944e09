package admin

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/filewatch"
)

// maxTokenFile bounds what is read from the token file: a token is a line,
// and a wrong path (a log, a database) must not be slurped into memory.
const maxTokenFile = 64 << 10

// tokenDebounce lets a writer finish before the token file is re-read.
const tokenDebounce = 50 * time.Millisecond

// tokenState is the token in force, or why writes are disabled. Only the
// SHA-256 of the token is kept: comparing digests of equal length in
// constant time reveals neither the token's bytes nor its length.
type tokenState struct {
	sum      [sha256.Size]byte
	disabled string // non-empty: every write is refused with this message
}

// auth guards the write endpoints with the bearer token in a file. The
// file is re-read when it changes, so a token is rotated without a
// restart, and on ReloadToken (SIGHUP).
type auth struct {
	path string
	log  *slog.Logger

	state   atomic.Pointer[tokenState]
	loadMu  sync.Mutex // serialises loads, so an older read never lands last
	watcher *filewatch.Watcher
}

// newAuth reads the token file and starts watching it. Without a path,
// writes are disabled. An unreadable file is an error: an operator who set
// one wants writes, and should hear at start that they will not work.
func newAuth(path string, log *slog.Logger) (*auth, error) {
	a := &auth{log: log}
	if path == "" {
		a.state.Store(&tokenState{disabled: "writes are disabled: set server.admin_token_file"})
		return a, nil
	}
	a.path = filepath.Clean(path)
	// Watching starts before the first read so that a change racing with it
	// is not lost.
	a.watch()
	if err := a.load(); err != nil {
		a.close()
		return nil, err
	}
	if a.state.Load().disabled == "" {
		log.Info("API writes enabled", "token_file", a.path)
	}
	return a, nil
}

// load re-reads the token file. On failure writes are refused until a
// later load succeeds: a deleted or broken token file must not leave the
// old token valid.
func (a *auth) load() error {
	a.loadMu.Lock()
	defer a.loadMu.Unlock()
	prev := a.state.Load()
	token, err := readToken(a.path)
	switch {
	case err != nil:
		a.state.Store(&tokenState{disabled: "writes are disabled: the admin token file cannot be read"})
		return err
	case token == "":
		a.state.Store(&tokenState{disabled: "writes are disabled: the admin token file is empty"})
		a.log.Warn("admin token file is empty: API writes are disabled", "file", a.path)
		return nil
	}
	next := &tokenState{sum: sha256.Sum256([]byte(token))}
	switch {
	case prev == nil:
	case prev.disabled != "":
		a.log.Info("admin token loaded: API writes are enabled again", "file", a.path)
	case prev.sum != next.sum:
		a.log.Info("admin token changed", "file", a.path)
	}
	a.state.Store(next)
	return nil
}

func readToken(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("admin token file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("admin token file %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("admin token file %s is larger than %d bytes: not a token", path, maxTokenFile)
	}
	return string(bytes.TrimSpace(b)), nil
}

// watch re-reads the token file when it is replaced: written in place,
// renamed into place, or swapped behind a Kubernetes secret's symlink.
// Without inotify the token still reloads on ReloadToken.
func (a *auth) watch() {
	w, err := filewatch.Start(a.path, tokenDebounce, func() {
		if err := a.load(); err != nil {
			a.log.Error("admin token reload failed: API writes are refused until the file is readable", "err", err)
		}
	}, func(err error) {
		a.log.Warn("admin token watch error", "file", a.path, "err", err)
	})
	if err != nil {
		a.log.Warn("cannot watch the admin token file: a new token takes effect on SIGHUP", "file", a.path, "err", err)
		return
	}
	a.watcher = w
}

// reload is ReloadToken: a no-op without a token file.
func (a *auth) reload() error {
	if a.path == "" {
		return nil
	}
	return a.load()
}

// close stops the watcher; it is safe to call more than once.
func (a *auth) close() {
	if a.watcher != nil {
		a.watcher.Close()
	}
}

// check tells whether r may write. It answers the request itself when
// not: 403 while writes are disabled, 401 for a missing or wrong token.
func (a *auth) check(w http.ResponseWriter, r *http.Request) bool {
	st := a.state.Load()
	if st.disabled != "" {
		writeError(w, http.StatusForbidden, st.disabled)
		return false
	}
	given, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cdnsteer"`)
		writeError(w, http.StatusUnauthorized, "this endpoint needs Authorization: Bearer <admin token>")
		return false
	}
	sum := sha256.Sum256([]byte(given))
	if subtle.ConstantTimeCompare(sum[:], st.sum[:]) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cdnsteer", error="invalid_token"`)
		a.log.Warn("API write refused: wrong bearer token", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		writeError(w, http.StatusUnauthorized, "wrong bearer token")
		return false
	}
	return true
}

// bearer extracts the token of an "Authorization: Bearer …" header. The
// scheme is case-insensitive (RFC 9110 §11.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
