package admin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// Role is what a token may do: read (every GET of the API, the live
// view's data) or write (changes too; write implies read).
type Role int

// Roles, weakest first, so that a role allows every role below it.
const (
	RoleRead Role = iota + 1
	RoleWrite
)

func (r Role) String() string {
	switch r {
	case RoleRead:
		return "read"
	case RoleWrite:
		return "write"
	}
	return "none"
}

// DefaultTokenName names the token of a file that holds one bare token,
// the format before named tokens: it is a write token.
const DefaultTokenName = "default"

// minTokenLen refuses guessable tokens, and catches a line that lost
// its token ("grafana read" would otherwise be the token "read").
const minTokenLen = 16

// tokenName is what a token's name may be: it goes into the decision log
// and every audit line, so it is one plain word.
var tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// token is one line of the token file, without its secret: only the
// SHA-256 of the token is kept, as the key it is looked up by.
type token struct {
	name string
	role Role
}

// Tokens is a parsed token file: the tokens valid at once (several, so
// that one is rotated without a moment with none), keyed by SHA-256.
type Tokens struct {
	byDigest map[[sha256.Size]byte]token
	reads    int // tokens of role read only
}

// Len is the number of tokens.
func (t *Tokens) Len() int { return len(t.byDigest) }

// Counts is the number of write tokens and of read-only ones.
func (t *Tokens) Counts() (write, read int) { return len(t.byDigest) - t.reads, t.reads }

// lookup finds the token given. The map is keyed by the SHA-256 of the
// token, so what a lookup's timing could reveal is about a digest, not
// about the token's bytes or length.
func (t *Tokens) lookup(given string) (token, bool) {
	tk, ok := t.byDigest[sha256.Sum256([]byte(given))]
	return tk, ok
}

// TokenFileError is a problem on one line of the token file.
type TokenFileError struct {
	File string
	Line int
	Msg  string
}

func (e *TokenFileError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// LoadTokens reads a token file: one `name token [role]` per line, role
// read (the default) or write; blank lines and lines starting with # are
// skipped. A file whose only line is a bare token is the older format: a
// write token named "default". The file must not be readable by group or
// others. Every problem is reported, each as FILE:LINE, and a file with
// any problem yields no tokens at all: it is never half applied.
func LoadTokens(path string) (*Tokens, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("admin token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("admin token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("admin token file %s is not a regular file", path)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return nil, fmt.Errorf("admin token file %s has mode %04o: group or others may read it; make it the service user's alone: chmod 600 %s", path, m, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("admin token file %s: %w", path, err)
	}
	if len(b) > maxTokenFile {
		return nil, fmt.Errorf("admin token file %s is larger than %d bytes: not a token file", path, maxTokenFile)
	}
	return parseTokens(path, b)
}

// parseTokens parses a token file's content; path names it in errors.
func parseTokens(path string, b []byte) (*Tokens, error) {
	type line struct {
		n      int
		fields []string
	}
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxTokenFile+1)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		lines = append(lines, line{n, strings.Fields(s)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("admin token file %s: %w", path, err)
	}
	if len(lines) == 0 {
		return nil, &TokenFileError{File: path, Line: 1, Msg: "no tokens: write one `name token [role]` per line (role read or write)"}
	}
	// The older format: the file is the token.
	if len(lines) == 1 && len(lines[0].fields) == 1 {
		lines[0].fields = []string{DefaultTokenName, lines[0].fields[0], "write"}
	}
	t := &Tokens{byDigest: map[[sha256.Size]byte]token{}}
	var errs []error
	bad := func(n int, format string, args ...any) {
		errs = append(errs, &TokenFileError{File: path, Line: n, Msg: fmt.Sprintf(format, args...)})
	}
	names := map[string]int{}
	secrets := map[[sha256.Size]byte]int{}
	for _, l := range lines {
		f := l.fields
		if len(f) < 2 || len(f) > 3 {
			bad(l.n, "%d fields: want `name token [role]` (a bare token is allowed only as the file's one line)", len(f))
			continue
		}
		name, secret, role := f[0], f[1], RoleRead
		if len(f) == 3 {
			switch f[2] {
			case "read":
			case "write":
				role = RoleWrite
			default:
				bad(l.n, "token %q: unknown role %q (read or write)", name, f[2])
				continue
			}
		}
		if !tokenName.MatchString(name) {
			bad(l.n, "token name %q: letters, digits and . _ @ + - only, at most 64", name)
			continue
		}
		if len(secret) < minTokenLen {
			bad(l.n, "token %q: %d characters, want at least %d (e.g. head -c 32 /dev/urandom | base64)", name, len(secret), minTokenLen)
			continue
		}
		if first, dup := names[name]; dup {
			bad(l.n, "token name %q is line %d's too: each token needs its own name", name, first)
			continue
		}
		sum := sha256.Sum256([]byte(secret))
		if first, dup := secrets[sum]; dup {
			bad(l.n, "token %q is the same secret as line %d's: each name needs its own token", name, first)
			continue
		}
		names[name], secrets[sum] = l.n, l.n
		t.byDigest[sum] = token{name: name, role: role}
		if role == RoleRead {
			t.reads++
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}
