package admin

import (
	"log/slog"
	"net/http"
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

// tokenState is the tokens in force, or why none are. Only the SHA-256
// of each token is kept (Tokens).
type tokenState struct {
	tokens   *Tokens
	disabled string // non-empty: every request needing a token is refused with this message
}

// auth guards the API with the named bearer tokens of a file. The file
// is re-read when it changes, so a token is added or rotated without a
// restart, and on ReloadToken (SIGHUP).
type auth struct {
	path string
	// openReads lets reads through without a token: set when there is no
	// token file, or when the operator opted out on a loopback bind.
	openReads bool
	log       *slog.Logger

	state   atomic.Pointer[tokenState]
	loadMu  sync.Mutex // serialises loads, so an older read never lands last
	watcher *filewatch.Watcher
}

// newAuth reads the token file and starts watching it. Without a path,
// writes are disabled and reads are open. A file that cannot be read or
// parsed is an error: an operator who set one wants it to work, and
// should hear at start that it does not.
func newAuth(path string, openReads bool, log *slog.Logger) (*auth, error) {
	a := &auth{log: log, openReads: openReads || path == ""}
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
	w, r := a.state.Load().tokens.Counts()
	log.Info("API tokens loaded", "token_file", a.path, "write", w, "read", r, "open_reads", a.openReads)
	return a, nil
}

// load re-reads the token file. On failure every request that needs a
// token is refused until a later load succeeds: a deleted or broken token
// file must not leave a token being rotated out valid.
func (a *auth) load() error {
	a.loadMu.Lock()
	defer a.loadMu.Unlock()
	prev := a.state.Load()
	tokens, err := LoadTokens(a.path)
	if err != nil {
		a.state.Store(&tokenState{disabled: "the admin token file cannot be used (see the server's log): API requests that need a token are refused"})
		return err
	}
	next := &tokenState{tokens: tokens}
	switch {
	case prev == nil:
	case prev.disabled != "":
		a.log.Info("admin tokens loaded: the API accepts tokens again", "file", a.path, "tokens", tokens.Len())
	default:
		a.log.Info("admin tokens reloaded", "file", a.path, "tokens", tokens.Len())
	}
	a.state.Store(next)
	return nil
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

// authorize tells whether r may do what need allows, and who it is (the
// token's name; "" for a read let through without a token). When not, it
// answers the request itself: 401 for a missing or wrong token, 403 for a
// read token on a write or while tokens cannot be used.
func (a *auth) authorize(w http.ResponseWriter, r *http.Request, need Role) (string, bool) {
	st := a.state.Load()
	given, hasToken := bearer(r.Header.Get("Authorization"))
	if need == RoleRead && a.openReads {
		// A valid token still names who reads; a wrong one is no worse
		// than none here.
		if hasToken && st.tokens != nil {
			if tk, ok := st.tokens.lookup(given); ok {
				return tk.name, true
			}
		}
		return "", true
	}
	if st.disabled != "" {
		writeError(w, http.StatusForbidden, st.disabled)
		return "", false
	}
	if !hasToken {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cdnsteer"`)
		what := "this endpoint needs Authorization: Bearer <token>"
		if need == RoleWrite {
			what += " (a write token)"
		}
		writeError(w, http.StatusUnauthorized, what)
		return "", false
	}
	tk, ok := st.tokens.lookup(given)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cdnsteer", error="invalid_token"`)
		a.log.Warn("API request refused: unknown bearer token", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		writeError(w, http.StatusUnauthorized, "wrong bearer token")
		return "", false
	}
	if tk.role < need {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cdnsteer", error="insufficient_scope"`)
		a.log.Warn("API write refused: read-only token", "token", tk.name, "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		writeError(w, http.StatusForbidden, "token "+tk.name+" may only read: this needs a write token")
		return "", false
	}
	return tk.name, true
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
