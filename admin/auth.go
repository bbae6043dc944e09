package admin

import (
	"bytes"
	"context"
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

	"github.com/fsnotify/fsnotify"
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

	state  atomic.Pointer[tokenState]
	loadMu sync.Mutex // serialises loads, so an older read never lands last
	last   os.FileInfo

	fsw       *fsnotify.Watcher
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
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
	token, fi, err := readToken(a.path)
	a.last = fi
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

func readToken(path string) (string, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, fmt.Errorf("admin token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, fmt.Errorf("admin token file: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", nil, fmt.Errorf("admin token file %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return "", nil, fmt.Errorf("admin token file %s is larger than %d bytes: not a token", path, maxTokenFile)
	}
	return string(bytes.TrimSpace(b)), fi, nil
}

// watch follows the token file's folder, not the file, so that a token
// written to a temporary file and renamed into place (or a Kubernetes
// secret's symlink swap) is seen. Without inotify the token still reloads
// on ReloadToken.
func (a *auth) watch() {
	fsw, err := fsnotify.NewWatcher()
	if err == nil {
		err = fsw.Add(filepath.Dir(a.path))
		if err != nil {
			_ = fsw.Close()
		}
	}
	if err != nil {
		a.log.Warn("cannot watch the admin token file: a new token takes effect on SIGHUP", "file", a.path, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a.fsw, a.cancel, a.done = fsw, cancel, make(chan struct{})
	go a.run(ctx)
}

// run reloads after events in the folder settle. An event naming the file
// always reloads; others (a neighbour such as the decision log, a symlink
// swap) reload only when the path now resolves to a different file, so a
// busy neighbour costs a stat, not a read.
func (a *auth) run(ctx context.Context) {
	defer close(a.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed, named := false, false
	base := filepath.Base(a.path)
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-a.fsw.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == base {
				named = true
			}
			if !armed {
				timer.Reset(tokenDebounce)
				armed = true
			}
		case err, ok := <-a.fsw.Errors:
			if !ok {
				return
			}
			// Events may have been lost: re-read rather than trust that
			// nothing changed.
			a.log.Warn("admin token watch error", "file", a.path, "err", err)
			named = true
			if !armed {
				timer.Reset(tokenDebounce)
				armed = true
			}
		case <-timer.C:
			armed = false
			if named || a.changed() {
				named = false
				if err := a.load(); err != nil {
					a.log.Error("admin token reload failed: API writes are refused until the file is readable", "err", err)
				}
			}
		}
	}
}

// changed reports whether the path now names another file, or the same
// file with another size or modification time, than the one last read.
func (a *auth) changed() bool {
	fi, err := os.Stat(a.path)
	a.loadMu.Lock()
	last := a.last
	a.loadMu.Unlock()
	switch {
	case err != nil:
		// Gone: worth a load only if the last one found a file, so that
		// writes stop; a file still missing is not news.
		return last != nil
	case last == nil:
		return true
	}
	return !os.SameFile(fi, last) || !fi.ModTime().Equal(last.ModTime()) || fi.Size() != last.Size()
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
	a.closeOnce.Do(func() {
		if a.fsw == nil {
			return
		}
		a.cancel()
		_ = a.fsw.Close()
		<-a.done
	})
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
