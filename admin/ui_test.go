package admin

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func TestLiveViewPage(t *testing.T) {
	f := newFixture(t)
	r := f.get("/")
	if r.code != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%d %q", r.code, r.header.Get("Content-Type"))
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "ETag"} {
		if r.header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") || !strings.Contains(csp, "connect-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	body := string(r.body)
	for _, want := range []string{`<script type="module" src="/ui/app.js">`, `id="regions"`, `id="token-dialog"`, `id="note-form"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// Nothing from another origin.
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(body) {
		t.Error("the page loads something from another origin")
	}

	req, _ := http.NewRequest("GET", f.base+"/", nil)
	req.Header.Set("If-None-Match", r.header.Get("ETag"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", resp.StatusCode)
	}
	if r := f.do("HEAD", "/", "", ""); r.code != http.StatusOK || len(r.body) != 0 {
		t.Errorf("HEAD /: %d, %d bytes", r.code, len(r.body))
	}
	expectError(t, f.do("POST", "/", "{}", testToken), http.StatusMethodNotAllowed, "")
}

// TestLiveViewScripts checks that every module the page imports is
// served, as JavaScript, so that a renamed file cannot break the page
// silently.
func TestLiveViewScripts(t *testing.T) {
	f := newFixture(t)
	imports := regexp.MustCompile(`from '\./([a-z]+\.js)'`)
	seen := map[string]bool{"app.js": true, "app.css": true}
	for name, a := range assets {
		for _, m := range imports.FindAllStringSubmatch(string(a.body), -1) {
			if _, ok := assets[m[1]]; !ok {
				t.Errorf("%s imports %s, which is not embedded", name, m[1])
			}
			seen[m[1]] = true
		}
	}
	for name := range seen {
		r := f.get("/ui/" + name)
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(name, ".css") {
			want = "text/css; charset=utf-8"
		}
		if r.code != http.StatusOK || r.header.Get("Content-Type") != want {
			t.Errorf("/ui/%s: %d %q", name, r.code, r.header.Get("Content-Type"))
		}
	}
	for name := range assets {
		if name != "index.html" && !seen[name] {
			t.Errorf("%s is embedded but nothing loads it", name)
		}
	}
	expectError(t, f.get("/ui/nope.js"), http.StatusNotFound, "")
	expectError(t, f.get("/ui/"), http.StatusNotFound, "")
	expectError(t, f.get("/ui/../admin.go"), http.StatusNotFound, "")
	req, _ := http.NewRequest("GET", f.base+"/ui/index.html", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/" {
		t.Errorf("/ui/index.html: %d to %q, want a redirect to /", resp.StatusCode, resp.Header.Get("Location"))
	}
}
