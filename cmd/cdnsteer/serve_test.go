package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// edge is a stand-in CDN edge on loopback that the engine really probes.
type edge struct {
	srv     *httptest.Server
	failing atomic.Bool
}

func newEdge(t *testing.T) *edge {
	e := &edge{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.failing.Load() {
			http.Error(w, "overloaded", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("X-Cache", "HIT")
		w.Write(make([]byte, 64<<10))
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// startServe runs the real serve loop on ephemeral loopback ports.
func startServe(t *testing.T, policy string) started {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return startInProcess(t, "serve", func(ctx context.Context, up func(started)) error {
		return runServer(ctx, snap, testLog(slog.LevelInfo), up)
	})
}

const edgePolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"
decision_log = "decisions.jsonl"

%s

[policy.live]
ttl = 5
evaluation_interval = "100ms"
signal_max_age = "1s"
[policy.live.region.default]
weights = { akamai = 25, cloudfront = 25, edgio = 25, fastly = 25 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// TestSteeringFollowsEdgeHealth runs the whole server against four real
// HTTP edges: when one starts failing its probes, DNS answers stop naming
// it; when it recovers, they name it again, gradually.
func TestSteeringFollowsEdgeHealth(t *testing.T) {
	edges := map[string]*edge{}
	var cdns strings.Builder
	for _, name := range []string{"akamai", "cloudfront", "edgio", "fastly"} {
		edges[name] = newEdge(t)
		fmt.Fprintf(&cdns, "[cdn.%s]\ntarget = \"%s.cdn.example.net.\"\n[cdn.%s.probe]\nurl = \"%s/seg.ts\"\ninterval = \"100ms\"\ntimeout = \"80ms\"\n",
			name, name, name, edges[name].srv.URL)
	}
	s := startServe(t, fmt.Sprintf(edgePolicy, cdns.String()))
	dnsAddr := s.DNS[0]

	await(t, "all four CDNs answered", 10*time.Second, func() bool { return len(cdnSpread(t, dnsAddr, 200, numbered)) == 4 })

	edges["fastly"].failing.Store(true)
	took := await(t, "fastly to stop being answered", 10*time.Second, func() bool { return cdnSpread(t, dnsAddr, 200, numbered)["fastly"] == 0 })
	t.Logf("fastly out of answers %s after its edge started failing (evaluation every 100ms, probes every 100ms)", took)

	var state struct {
		Policies []struct {
			Regions []struct {
				CDNs []struct {
					Name   string
					Status string
				}
			}
		}
	}
	resp, err := http.Get("http://" + s.HTTP + "/api/v1/state")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&state)
	resp.Body.Close()
	if err != nil || len(state.Policies) == 0 || len(state.Policies[0].Regions) == 0 {
		t.Fatalf("state API: %v %+v", err, state)
	}
	status := ""
	for _, c := range state.Policies[0].Regions[0].CDNs {
		if c.Name == "fastly" {
			status = c.Status
		}
	}
	if status != "degraded" {
		t.Errorf("state API says fastly is %q, want degraded", status)
	}

	edges["fastly"].failing.Store(false)
	var seen []int
	await(t, "fastly back at its share", 20*time.Second, func() bool {
		n := cdnSpread(t, dnsAddr, 400, numbered)["fastly"]
		seen = append(seen, n)
		return n > 70 // about a quarter of 400
	})
	gradual := false
	for _, n := range seen {
		if n > 0 && n <= 70 {
			gradual = true
		}
	}
	if !gradual {
		t.Errorf("fastly came back in one jump: answers per round %v", seen)
	}
}
