package edges

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/probe"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

func startEdge(t *testing.T, k Knobs) *Edge {
	t.Helper()
	e, err := Start("fastly", k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// probeOnce runs the real probe against e, as the demo's runner does.
func probeOnce(t *testing.T, e *Edge, timeout time.Duration) probe.Result {
	t.Helper()
	return probe.Do(context.Background(), nil, probe.Config{CDN: e.Name(), URL: e.URL(), Interval: timeout, Timeout: timeout})
}

func f(v float64) *float64 { return &v }

func TestHealthyEdgeServesTheObject(t *testing.T) {
	e := startEdge(t, Healthy)
	if !strings.HasPrefix(e.URL(), "http://127.0.0.1:") || !strings.HasSuffix(e.URL(), ObjectPath) {
		t.Fatalf("URL %s: want a loopback URL of %s", e.URL(), ObjectPath)
	}
	r := probeOnce(t, e, time.Second)
	if r.Err != nil || r.Status != 200 || r.Bytes != ObjectSize {
		t.Fatalf("probe: err %v, status %d, %d bytes", r.Err, r.Status, r.Bytes)
	}
	s := r.Signal()
	if *s.Values[health.ErrorRate] != 0 || s.Values[health.Download] == nil || *s.Values[health.Download] < 20 {
		t.Errorf("signal of a healthy edge: error rate %v, download %v Mbit/s", *s.Values[health.ErrorRate], s.Values[health.Download])
	}
	if st := e.Stats(); st.Requests != 1 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestKnobsShapeWhatTheProbeSees(t *testing.T) {
	e := startEdge(t, Healthy)

	if _, err := e.Update(Patch{LatencyMs: f(150)}); err != nil {
		t.Fatal(err)
	}
	if r := probeOnce(t, e, time.Second); r.Err != nil || r.TTFB < 150*time.Millisecond || r.TTFB > 600*time.Millisecond {
		t.Errorf("latency 150 ms: TTFB %s, err %v", r.TTFB, r.Err)
	}

	if _, err := e.Update(Patch{LatencyMs: f(0), ErrorRate: f(1)}); err != nil {
		t.Fatal(err)
	}
	if r := probeOnce(t, e, time.Second); r.Status != http.StatusServiceUnavailable || r.Err == nil {
		t.Errorf("error rate 1: status %d, err %v", r.Status, r.Err)
	}

	if _, err := e.Update(Patch{ErrorRate: f(0), CacheHitRatio: f(0)}); err != nil {
		t.Fatal(err)
	}
	if r := probeOnce(t, e, time.Second); r.Cache != probe.CacheMiss {
		t.Errorf("cache hit ratio 0: probe saw %s", r.Cache)
	}
	if _, err := e.Update(Patch{CacheHitRatio: f(1)}); err != nil {
		t.Fatal(err)
	}
	if r := probeOnce(t, e, time.Second); r.Cache != probe.CacheHit {
		t.Errorf("cache hit ratio 1: probe saw %s", r.Cache)
	}

	// 128 KiB at 4 Mbit/s takes about 260 ms.
	if _, err := e.Update(Patch{BandwidthMbps: f(4)}); err != nil {
		t.Fatal(err)
	}
	r := probeOnce(t, e, 2*time.Second)
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if rate := *r.Signal().Values[health.Download]; rate < 2 || rate > 6 {
		t.Errorf("bandwidth 4 Mbit/s: probe measured %.1f Mbit/s (transfer %s)", rate, r.Transfer)
	}
}

func TestSlowEdgeTimesTheProbeOut(t *testing.T) {
	e := startEdge(t, Knobs{LatencyMs: 2000, CacheHitRatio: 1, BandwidthMbps: 100})
	r := probeOnce(t, e, 200*time.Millisecond)
	if !r.TimedOut() {
		t.Errorf("latency 2 s, timeout 200 ms: err %v", r.Err)
	}
}

func TestErrorRateIsAShare(t *testing.T) {
	e := startEdge(t, Knobs{ErrorRate: 0.5, CacheHitRatio: 0.5, BandwidthMbps: MaxBandwidthMbps})
	const n = 200
	for range n {
		resp, err := http.Get(e.URL())
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	st := e.Stats()
	// Binomial(200, 0.5): outside 60..140 is a one-in-10^8 event.
	if st.Requests != n || st.Errors < 60 || st.Errors > 140 {
		t.Errorf("error rate 0.5 over %d requests: %+v", n, st)
	}
	ok := n - st.Errors
	if st.CacheHits < ok/5 || st.CacheHits > ok*4/5 {
		t.Errorf("cache hit ratio 0.5: %d hits of %d answers", st.CacheHits, ok)
	}
}

func TestUpdateRefusesOutOfRange(t *testing.T) {
	e := startEdge(t, Healthy)
	for _, tc := range []struct {
		p     Patch
		field string
	}{
		{Patch{LatencyMs: f(-1)}, "latency_ms"},
		{Patch{LatencyMs: f(MaxLatencyMs + 1)}, "latency_ms"},
		{Patch{ErrorRate: f(1.5)}, "error_rate"},
		{Patch{CacheHitRatio: f(-0.1)}, "cache_hit_ratio"},
		{Patch{BandwidthMbps: f(0)}, "bandwidth_mbps"},
		{Patch{ErrorRate: f(0.5), BandwidthMbps: f(MaxBandwidthMbps * 2)}, "bandwidth_mbps"},
	} {
		k, err := e.Update(tc.p)
		var ke *keyerr.Error
		if !errors.As(err, &ke) || ke.Key != tc.field {
			t.Errorf("%+v: error %v, want one about %s", tc.p, err, tc.field)
		}
		if k != Healthy || e.Knobs() != Healthy {
			t.Errorf("%+v: knobs changed to %+v", tc.p, e.Knobs())
		}
	}
	if _, err := Start("x", Knobs{}); err == nil {
		t.Error("an edge with zero bandwidth started")
	}
}

func TestPatch(t *testing.T) {
	if !(Patch{}).Empty() || (Patch{ErrorRate: f(0)}).Empty() {
		t.Error("Empty")
	}
	got := Patch{LatencyMs: f(500), CacheHitRatio: f(0.2)}.Apply(Healthy)
	want := Knobs{LatencyMs: 500, ErrorRate: Healthy.ErrorRate, CacheHitRatio: 0.2, BandwidthMbps: Healthy.BandwidthMbps}
	if got != want {
		t.Errorf("Apply: %+v, want %+v", got, want)
	}
}

func TestOtherPaths(t *testing.T) {
	e := startEdge(t, Healthy)
	base := strings.TrimSuffix(e.URL(), ObjectPath)
	for path, code := range map[string]int{"/": 200, "/nothing": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != code {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, code)
		}
	}
	if st := e.Stats(); st.Requests != 0 {
		t.Errorf("requests for other paths counted: %+v", st)
	}
}
