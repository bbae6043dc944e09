package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestState(t *testing.T) {
	f := newFixture(t)
	r := f.get("/api/v1/state")
	if r.code != http.StatusOK {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var v health.View
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Policies) != 1 || v.Policies[0].Name != "live" || len(v.Policies[0].Regions) != 2 {
		t.Fatalf("unexpected view: %s", r.body)
	}
	kr := v.Policies[0].Regions[1]
	if kr.Name != "kr" || len(kr.CDNs) != 4 || kr.CDNs[1].Name != "cloudfront" || kr.CDNs[1].Baseline != 40 {
		t.Errorf("unexpected kr region: %+v", kr)
	}
	if !v.Time.Equal(t0) {
		t.Errorf("view time %s, want the configured clock's %s", v.Time, t0)
	}
}

func TestStateBadRequests(t *testing.T) {
	f := newFixture(t)
	r := f.do("POST", "/api/v1/state", "{}", testToken)
	expectError(t, r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "GET, HEAD" {
		t.Errorf("Allow %q, want GET, HEAD", allow)
	}
	expectError(t, f.get("/api/v1/state?verbose=1"), http.StatusBadRequest, "verbose")
	expectError(t, f.get("/api/v1/nothing"), http.StatusNotFound, "")
}

func TestNoEngine(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Engine = nil })
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/state", ""},
		{"GET", "/api/v1/overrides", ""},
		{"POST", "/api/v1/overrides", `{"action":"drain","cdn":"akamai","ttl":"1m","reason":"x"}`},
		{"DELETE", "/api/v1/overrides/abc", ""},
		{"POST", "/api/v1/signals", `{"signals":[{"cdn":"akamai","ttfb_ms":100}]}`},
	} {
		r := f.write(tc.method, tc.path, tc.body)
		expectError(t, r, http.StatusServiceUnavailable, "")
		if msg := r.json(t)["error"]; msg != "health engine not running" {
			t.Errorf("%s %s: error %q", tc.method, tc.path, msg)
		}
	}
	// Annotations do not need the engine.
	if r := f.write("POST", "/api/v1/annotations", `{"text":"kick-off"}`); r.code != http.StatusCreated {
		t.Errorf("annotation without engine: %d %s", r.code, r.body)
	}
}

// The API must not break the endpoints that were there before it.
func TestProbeEndpoints(t *testing.T) {
	var ready atomic.Bool
	f := newFixture(t, func(c *Config) { c.Ready = ready.Load })
	if r := f.get("/healthz"); r.code != http.StatusOK {
		t.Errorf("healthz %d", r.code)
	}
	if r := f.get("/readyz"); r.code != http.StatusServiceUnavailable {
		t.Errorf("readyz before ready %d", r.code)
	}
	ready.Store(true)
	if r := f.get("/readyz"); r.code != http.StatusOK {
		t.Errorf("readyz when ready %d", r.code)
	}
	r := f.get("/metrics")
	if r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("metrics %d %q", r.code, r.header.Get("Content-Type"))
	}
}
