package admin

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writes are one good request to every write endpoint.
var writes = []struct{ method, path, body string }{
	{"POST", "/api/v1/signals", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}]}`},
	{"POST", "/api/v1/overrides", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "reason": "r"}`},
	{"DELETE", "/api/v1/overrides/0123456789abcdef", ""},
	{"POST", "/api/v1/annotations", `{"text": "kick-off"}`},
}

func TestWritesNeedToken(t *testing.T) {
	f := newFixture(t)
	for _, w := range writes {
		for _, auth := range []string{"", "Bearer", "Bearer ", "Bearer wrong-token", "Basic " + testToken, testToken, "Bearer " + testToken + "x", "Bearer " + testToken[:len(testToken)-1]} {
			before := f.state()
			req, err := http.NewRequest(w.method, f.base+w.path, strings.NewReader(w.body))
			if err != nil {
				t.Fatal(err)
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with Authorization %q: %d, want 401", w.method, w.path, auth, resp.StatusCode)
			}
			if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
				t.Errorf("WWW-Authenticate %q", h)
			}
			f.unchanged(before)
		}
	}
	f.noSignals()
	// The scheme is case-insensitive.
	if r := f.do("POST", "/api/v1/annotations", `{"text": "t"}`, ""); r.code != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.code)
	}
	req, _ := http.NewRequest("POST", f.base+"/api/v1/annotations", strings.NewReader(`{"text": "t"}`))
	req.Header.Set("Authorization", "bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("lower-case bearer: %d", resp.StatusCode)
	}
}

// Reads need a token: none or a wrong one is 401, a read or write token
// reads.
func TestReadsNeedToken(t *testing.T) {
	f := newFixture(t)
	for _, p := range reads {
		for _, token := range []string{"", "wrong-token-000000000", testReadToken + "x"} {
			r := f.do("GET", p, "", token)
			expectError(t, r, http.StatusUnauthorized, "")
			if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
				t.Errorf("GET %s: WWW-Authenticate %q", p, h)
			}
		}
		for _, token := range []string{testReadToken, testToken} {
			// Explain has no policy to explain here (503): past the door.
			if r := f.do("GET", p, "", token); r.code == http.StatusUnauthorized || r.code == http.StatusForbidden {
				t.Errorf("GET %s with a token: %d %s", p, r.code, r.body)
			}
		}
	}
	// The page itself holds no data: it loads and asks for the token.
	for _, p := range []string{"/", "/ui/app.js", "/healthz", "/readyz", "/metrics"} {
		if r := f.do("GET", p, "", ""); r.code != http.StatusOK {
			t.Errorf("GET %s without a token: %d", p, r.code)
		}
	}
}

// reads are the endpoints that disclose state.
var reads = []string{"/api/v1/state", "/api/v1/kinds", "/api/v1/overrides", "/api/v1/annotations", "/api/v1/history",
	"/api/v1/explain?name=x.example.com", "/api/v1/plans", "/api/v1/whoami"}

// A read token cannot write: 403, nothing changed.
func TestReadTokenCannotWrite(t *testing.T) {
	f := newFixture(t)
	for _, w := range writes {
		before := f.state()
		r := f.do(w.method, w.path, w.body, testReadToken)
		expectError(t, r, http.StatusForbidden, "")
		if msg, _ := r.json(t)["error"].(string); !strings.Contains(msg, "token "+testReader+" may only read") {
			t.Errorf("%s %s: %q", w.method, w.path, msg)
		}
		f.unchanged(before)
	}
}

// With http_open_reads, reads need no token; writes still do.
func TestOpenReads(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.OpenReads = true })
	for _, p := range reads {
		if r := f.do("GET", p, "", ""); r.code == http.StatusUnauthorized || r.code == http.StatusForbidden {
			t.Errorf("GET %s: %d %s", p, r.code, r.body)
		}
	}
	if code := f.postNote(""); code != http.StatusUnauthorized {
		t.Errorf("write without a token, reads open: %d", code)
	}
	var who map[string]any
	r := f.do("GET", "/api/v1/whoami", "", testReadToken)
	if json.Unmarshal(r.body, &who) != nil || who["name"] != testReader || who["role"] != "read" || who["open_reads"] != true {
		t.Errorf("whoami with reads open: %s", r.body)
	}
}

func TestWritesDisabledWithoutTokenFile(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.TokenFile = "" })
	for _, w := range writes {
		before := f.state()
		r := f.write(w.method, w.path, w.body)
		expectError(t, r, http.StatusForbidden, "")
		if msg := r.json(t)["error"]; msg != "writes are disabled: set server.admin_token_file" {
			t.Errorf("%s %s: error %q", w.method, w.path, msg)
		}
		f.unchanged(before)
	}
	if err := f.srv.ReloadToken(); err != nil {
		t.Errorf("ReloadToken without a token file: %v", err)
	}
	if r := f.get("/api/v1/state"); r.code != http.StatusOK {
		t.Errorf("reads with writes disabled: %d", r.code)
	}
}

// A token file emptied or broken while serving refuses every request
// that needs a token; nothing of a broken file is applied.
func TestBrokenTokenFileRefuses(t *testing.T) {
	for name, content := range map[string]string{
		"empty":    " \n# nothing\n",
		"half bad": testWriter + " " + testToken + " write\nnew-one short\n",
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			writeFile(t, f.tokenFile, content)
			if err := f.srv.ReloadToken(); err == nil {
				t.Fatal("ReloadToken of a bad file succeeded")
			}
			for _, token := range []string{"", testToken} {
				expectError(t, f.do("POST", "/api/v1/annotations", `{"text": "t"}`, token), http.StatusForbidden, "")
				expectError(t, f.do("GET", "/api/v1/state", "", token), http.StatusForbidden, "")
			}
		})
	}
}

func TestListenFailsOnMissingTokenFile(t *testing.T) {
	_, err := Listen(Config{Addr: "127.0.0.1:0", TokenFile: filepath.Join(t.TempDir(), "missing.token")})
	if err == nil || !strings.Contains(err.Error(), "admin token file") {
		t.Errorf("Listen with a missing token file: %v", err)
	}
}

// postNote is the status of an annotation written with token.
func (f *fixture) postNote(token string) int {
	f.t.Helper()
	return f.do("POST", "/api/v1/annotations", `{"text": "t"}`, token).code
}

func TestTokenRotatedInPlace(t *testing.T) {
	f := newFixture(t)
	writeFile(t, f.tokenFile, "second-token-0000000\n")
	eventually(t, "the rewritten token to take effect", func() bool { return f.postNote("second-token-0000000") == http.StatusCreated })
	if code := f.postNote(testToken); code != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d", code)
	}
}

// Tools that write a new file and rename it over the old one are seen too.
func TestTokenRotatedByRename(t *testing.T) {
	f := newFixture(t)
	tmp := f.tokenFile + ".tmp"
	writeFile(t, tmp, "renamed-token-000000")
	if err := os.Rename(tmp, f.tokenFile); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the renamed token to take effect", func() bool { return f.postNote("renamed-token-000000") == http.StatusCreated })
	if code := f.postNote(testToken); code != http.StatusUnauthorized {
		t.Errorf("old token after rotation: %d", code)
	}
}

func TestReloadToken(t *testing.T) {
	f := newFixture(t)
	writeFile(t, f.tokenFile, "reloaded-token-00000")
	if err := f.srv.ReloadToken(); err != nil {
		t.Fatal(err)
	}
	if code := f.postNote("reloaded-token-00000"); code != http.StatusCreated {
		t.Errorf("new token right after ReloadToken: %d", code)
	}
	if code := f.postNote(testToken); code != http.StatusUnauthorized {
		t.Errorf("old token after ReloadToken: %d", code)
	}
}

// A removed token file must not leave the old token valid.
func TestTokenFileRemoved(t *testing.T) {
	f := newFixture(t)
	if err := os.Remove(f.tokenFile); err != nil {
		t.Fatal(err)
	}
	eventually(t, "writes to be refused", func() bool { return f.postNote(testToken) == http.StatusForbidden })
	if err := f.srv.ReloadToken(); err == nil {
		t.Error("ReloadToken of a missing file succeeded")
	}
	writeFile(t, f.tokenFile, "restored-token-00000")
	eventually(t, "the new file to take effect", func() bool { return f.postNote("restored-token-00000") == http.StatusCreated })
}

func TestBearer(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"abc", "", false},
		{"", "", false},
	} {
		token, ok := bearer(tc.header)
		if token != tc.token || ok != tc.ok {
			t.Errorf("bearer(%q) = %q, %v; want %q, %v", tc.header, token, ok, tc.token, tc.ok)
		}
	}
}

// Writes racing with token reloads all see a whole token: run under -race.
func TestConcurrentWritesAndReloads(t *testing.T) {
	f := newFixture(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			if err := f.srv.ReloadToken(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	codes := make(chan int, 40)
	for range 20 {
		wg.Go(func() {
			// Not f.do: t.Fatal must not run outside the test's goroutine.
			for _, w := range [][2]string{{"/api/v1/annotations", `{"text": "t"}`}, {"/api/v1/signals", `{"signals": [{"cdn": "edgio", "ttfb_ms": 300}]}`}} {
				req, _ := http.NewRequest("POST", f.base+w[0], strings.NewReader(w[1]))
				req.Header.Set("Authorization", "Bearer "+testToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					codes <- 0
					continue
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}
		})
	}
	wg.Wait()
	<-done
	close(codes)
	for code := range codes {
		if code != http.StatusCreated && code != http.StatusAccepted {
			t.Errorf("write during reloads: %d", code)
		}
	}
	if n := len(f.notes.Since(time.Time{})); n != 20 {
		t.Errorf("%d annotations, want 20", n)
	}
}
