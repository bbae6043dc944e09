package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/demo/edges"
)

func demoFixture(t *testing.T, edit ...func(*Config)) (*fixture, *edges.Fleet) {
	t.Helper()
	fleet, err := edges.StartFleet([]string{"akamai", "fastly"}, edges.Healthy)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	return newFixture(t, append([]func(*Config){func(c *Config) { c.Demo = fleet }}, edit...)...), fleet
}

func TestDemoEdgesList(t *testing.T) {
	f, fleet := demoFixture(t)
	r := f.get("/api/v1/demo/edges")
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var got struct{ Edges []edges.Status }
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Edges) != 2 || got.Edges[1].CDN != "fastly" || got.Edges[1].URL != fleet.Edge("fastly").URL() || got.Edges[1].Knobs != edges.Healthy {
		t.Errorf("%s", r.body)
	}
	expectError(t, f.get("/api/v1/demo/edges?cdn=fastly"), http.StatusBadRequest, "cdn")
	expectError(t, f.do("DELETE", "/api/v1/demo/edges", "", testToken), http.StatusMethodNotAllowed, "")
}

func TestDemoEdgeKnobs(t *testing.T) {
	f, fleet := demoFixture(t)
	r := f.write("POST", "/api/v1/demo/edges/fastly", `{"latency_ms": 300, "error_rate": 0.5}`)
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	want := edges.Knobs{LatencyMs: 300, ErrorRate: 0.5, CacheHitRatio: edges.Healthy.CacheHitRatio, BandwidthMbps: edges.Healthy.BandwidthMbps}
	if got := fleet.Edge("fastly").Knobs(); got != want {
		t.Errorf("fastly's knobs %+v, want %+v (fields left out keep their value)", got, want)
	}
	var answer edges.Status
	if err := json.Unmarshal(r.body, &answer); err != nil || answer.CDN != "fastly" || answer.Knobs != want {
		t.Errorf("answer %s (%v)", r.body, err)
	}
	if got := fleet.Edge("akamai").Knobs(); got != edges.Healthy {
		t.Errorf("akamai changed too: %+v", got)
	}
	r = f.write("POST", "/api/v1/demo/edges/fastly", `{"cache_hit_ratio": 0, "bandwidth_mbps": 2.5}`)
	if r.code != http.StatusOK || fleet.Edge("fastly").Knobs().BandwidthMbps != 2.5 || fleet.Edge("fastly").Knobs().CacheHitRatio != 0 {
		t.Errorf("%d %s", r.code, r.body)
	}
}

func TestDemoEdgeBadInput(t *testing.T) {
	f, fleet := demoFixture(t)
	before := fleet.Edge("fastly").Knobs()
	for _, tc := range []struct {
		name, path, body string
		code             int
		field            string
	}{
		{"unknown cdn", "/api/v1/demo/edges/nope", `{"error_rate":1}`, http.StatusNotFound, "cdn"},
		{"empty object", "/api/v1/demo/edges/fastly", `{}`, http.StatusBadRequest, ""},
		{"no body", "/api/v1/demo/edges/fastly", ``, http.StatusBadRequest, ""},
		{"bad JSON", "/api/v1/demo/edges/fastly", `{"error_rate":`, http.StatusBadRequest, ""},
		{"not an object", "/api/v1/demo/edges/fastly", `[1]`, http.StatusBadRequest, ""},
		{"unknown field", "/api/v1/demo/edges/fastly", `{"latency":5}`, http.StatusBadRequest, "latency"},
		{"string for a number", "/api/v1/demo/edges/fastly", `{"error_rate":"high"}`, http.StatusBadRequest, "error_rate"},
		{"error rate above 1", "/api/v1/demo/edges/fastly", `{"error_rate":1.5}`, http.StatusBadRequest, "error_rate"},
		{"negative latency", "/api/v1/demo/edges/fastly", `{"latency_ms":-1}`, http.StatusBadRequest, "latency_ms"},
		{"latency too long", "/api/v1/demo/edges/fastly", `{"latency_ms":600000}`, http.StatusBadRequest, "latency_ms"},
		{"cache hit ratio below 0", "/api/v1/demo/edges/fastly", `{"cache_hit_ratio":-0.5}`, http.StatusBadRequest, "cache_hit_ratio"},
		{"no bandwidth", "/api/v1/demo/edges/fastly", `{"bandwidth_mbps":0}`, http.StatusBadRequest, "bandwidth_mbps"},
		{"one bad among good", "/api/v1/demo/edges/fastly", `{"latency_ms":100,"error_rate":2}`, http.StatusBadRequest, "error_rate"},
		{"two objects", "/api/v1/demo/edges/fastly", `{"error_rate":1}{"error_rate":0}`, http.StatusBadRequest, ""},
		{"query parameter", "/api/v1/demo/edges/fastly?force=1", `{"error_rate":1}`, http.StatusBadRequest, "force"},
		{"too large", "/api/v1/demo/edges/fastly", `{"error_rate":1,"x":"` + strings.Repeat("a", maxBody) + `"}`, http.StatusRequestEntityTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, f.write("POST", tc.path, tc.body), tc.code, tc.field)
			if got := fleet.Edge("fastly").Knobs(); got != before {
				t.Errorf("knobs changed to %+v", got)
			}
		})
	}
	expectError(t, f.write("GET", "/api/v1/demo/edges/fastly", ""), http.StatusMethodNotAllowed, "")
}

func TestDemoEdgeAuth(t *testing.T) {
	f, fleet := demoFixture(t)
	r := f.do("POST", "/api/v1/demo/edges/fastly", `{"error_rate":1}`, "")
	expectError(t, r, http.StatusUnauthorized, "")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	expectError(t, f.do("POST", "/api/v1/demo/edges/fastly", `{"error_rate":1}`, "wrong"), http.StatusUnauthorized, "")
	// Auth comes first: an unknown CDN is not revealed to a caller without the token.
	expectError(t, f.do("POST", "/api/v1/demo/edges/nope", `{"error_rate":1}`, ""), http.StatusUnauthorized, "")
	if got := fleet.Edge("fastly").Knobs(); got != edges.Healthy {
		t.Errorf("knobs changed without the token: %+v", got)
	}

	f2, fleet2 := demoFixture(t, func(c *Config) { c.TokenFile = "" })
	expectError(t, f2.write("POST", "/api/v1/demo/edges/fastly", `{"error_rate":1}`), http.StatusForbidden, "")
	if got := fleet2.Edge("fastly").Knobs(); got != edges.Healthy {
		t.Errorf("knobs changed with writes disabled: %+v", got)
	}
}

func TestDemoTreeAbsentOutsideADemo(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/demo/edges", ""},
		{"POST", "/api/v1/demo/edges/fastly", `{"error_rate":1}`},
		{"GET", "/api/v1/demo/", ""},
		{"GET", "/api/v1/demo", ""},
	} {
		expectError(t, f.write(tc.method, tc.path, tc.body), http.StatusNotFound, "")
	}
	// In a demo, paths beside the edges are still unknown.
	fd, _ := demoFixture(t)
	expectError(t, fd.get("/api/v1/demo/other"), http.StatusNotFound, "")
}
