package admin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	writeFile(t, path, "# who may do what\n\nops   aaaaaaaaaaaaaaaa1 write\n  grafana bbbbbbbbbbbbbbbb2 read\nci cccccccccccccccc3\nnew-ops dddddddddddddddd4 write\n")
	tk, err := LoadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if w, r := tk.Counts(); w != 2 || r != 2 {
		t.Errorf("counts %d write, %d read", w, r)
	}
	for secret, want := range map[string]token{
		"aaaaaaaaaaaaaaaa1": {"ops", RoleWrite},
		"bbbbbbbbbbbbbbbb2": {"grafana", RoleRead},
		"cccccccccccccccc3": {"ci", RoleRead}, // no role: read
		"dddddddddddddddd4": {"new-ops", RoleWrite},
	} {
		if got, ok := tk.lookup(secret); !ok || got != want {
			t.Errorf("%s: %+v %v, want %+v", secret, got, ok, want)
		}
	}
	for _, s := range []string{"", "ops", "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaa1 "} {
		if _, ok := tk.lookup(s); ok {
			t.Errorf("%q accepted", s)
		}
	}

	// The older file: one bare token is a write token named "default".
	writeFile(t, path, "\n  eeeeeeeeeeeeeeee5\n")
	if tk, err = LoadTokens(path); err != nil {
		t.Fatal(err)
	}
	if got, ok := tk.lookup("eeeeeeeeeeeeeeee5"); !ok || got != (token{DefaultTokenName, RoleWrite}) {
		t.Errorf("bare token: %+v %v", got, ok)
	}
}

// Every bad line is reported at its line, and nothing of the file is used.
func TestLoadTokensErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	for _, tc := range []struct{ name, content, want string }{
		{"empty", "# nothing yet\n\n", ":1: no tokens"},
		{"unknown role", "ops aaaaaaaaaaaaaaaa1 write\ngrafana bbbbbbbbbbbbbbbb2 admin\n", `:2: token "grafana": unknown role "admin" (read or write)`},
		{"duplicate name", "ops aaaaaaaaaaaaaaaa1 write\n# x\nops bbbbbbbbbbbbbbbb2 read\n", `:3: token name "ops" is line 1's too`},
		{"duplicate token", "ops aaaaaaaaaaaaaaaa1 write\nci aaaaaaaaaaaaaaaa1 read\n", `:2: token "ci" is the same secret as line 1's`},
		{"lost its token", "ops aaaaaaaaaaaaaaaa1 write\ngrafana read\n", `:2: token "grafana": 4 characters, want at least 16`},
		{"bare among named", "ops aaaaaaaaaaaaaaaa1 write\nbbbbbbbbbbbbbbbb2\n", ":2: 1 fields"},
		{"too many fields", "ops aaaaaaaaaaaaaaaa1 write extra\n", ":1: 4 fields"},
		{"bad name", "ops/x aaaaaaaaaaaaaaaa1 write\n", `:1: token name "ops/x"`},
		{"short bare token", "short\n", `:1: token "default": 5 characters`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			writeFile(t, path, tc.content)
			tk, err := LoadTokens(path)
			if err == nil || tk != nil {
				t.Fatalf("loaded: %v", tk)
			}
			if !strings.Contains(err.Error(), path+tc.want) {
				t.Errorf("error %q, want %q", err, path+tc.want)
			}
		})
	}
	// Two bad lines: both reported.
	writeFile(t, path, "a aaaaaaaaaaaaaaaa1 root\nb short\n")
	if _, err := LoadTokens(path); err == nil || !strings.Contains(err.Error(), path+":1:") || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("two bad lines: %v", err)
	}
}

// A token file that group or others may read is refused, naming the mode
// and the fix; through a symlink the file's own mode counts.
func TestLoadTokensPermissions(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens")
	writeFile(t, path, testTokens)
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := LoadTokens(path)
		if err == nil || !strings.Contains(err.Error(), "mode "+octal(mode)) || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTokens(path); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTokens(link); err != nil {
		t.Errorf("through a symlink to a 0400 file: %v", err)
	}
	// Listen refuses it too.
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Listen(Config{Addr: "127.0.0.1:0", TokenFile: path}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("Listen with a 0644 token file: %v", err)
	}
}

func octal(m os.FileMode) string {
	const digits = "01234567"
	p := uint32(m.Perm())
	return string([]byte{'0', digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}
