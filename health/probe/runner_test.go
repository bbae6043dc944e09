package probe

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
)

func ok(w http.ResponseWriter, r *http.Request) { w.Write([]byte("segment")) }

// successes counts a CDN's successful signals.
func successes(sigs []health.Signal, cdn string) int {
	n := 0
	for _, s := range of(sigs, cdn) {
		if *s.Values[health.ErrorRate] == 0 {
			n++
		}
	}
	return n
}

// series counts the registered series labelled with cdn.
func series(t *testing.T, g prometheus.Gatherer, cdn string) int {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "cdn" && l.GetValue() == cdn {
					n++
				}
			}
		}
	}
	return n
}

// TestRunnerIndependence: while one CDN's probe hangs until its timeout,
// the other keeps producing results at its interval.
func TestRunnerIndependence(t *testing.T) {
	t.Parallel()
	const slowTimeout = 300 * time.Millisecond
	release := make(chan struct{})
	defer close(release) // before the servers close: their handlers must return
	slowStarted := make(chan struct{}, 1)
	slow := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case slowStarted <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	fast := server(t, ok)

	col := newCollector()
	r := NewRunner(prometheus.NewRegistry(), col.sink, nil)
	defer r.Stop()
	r.Update([]Config{
		{CDN: "slow", URL: slow.URL, Interval: slowTimeout, Timeout: slowTimeout},
		{CDN: "fast", URL: fast.URL, Interval: 20 * time.Millisecond, Timeout: 20 * time.Millisecond},
	})

	receive(t, "slow probe", slowStarted)
	from := len(col.snapshot())
	sigs := col.await(t, "two slow results", func(s []health.Signal) bool { return len(of(s, "slow")) >= 2 })

	// Fast results between the slow probe starting and its timeout.
	var during []health.Signal
	for _, s := range sigs[from:] {
		if s.CDN == "slow" {
			break
		}
		during = append(during, s)
	}
	if n := successes(during, "fast"); n < 3 {
		t.Errorf("%d fast results while the slow probe hung for %s, want several", n, slowTimeout)
	}

	s := of(sigs, "slow")
	if *s[0].Values[health.ErrorRate] != 1 || *s[0].Values[health.TTFB] != float64(slowTimeout.Milliseconds()) {
		t.Errorf("slow signal: error rate %v, ttfb %v ms; want 1 and the timeout", *s[0].Values[health.ErrorRate], *s[0].Values[health.TTFB])
	}
	// Each slow probe takes the whole interval, so the next may start only
	// when it ends: never overlapping, never sooner.
	if gap := s[1].Time.Sub(s[0].Time); gap < slowTimeout {
		t.Errorf("slow probes started %s apart, less than the %s each took", gap, slowTimeout)
	}
	if res, ok := r.Last("slow"); !ok || !res.TimedOut() {
		t.Errorf("Last(slow) = %v, %v; want a timeout", res.Err, ok)
	}
}

func TestRunnerUpdate(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	paths := map[string]int{}
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths[r.URL.Path]++
		mu.Unlock()
		ok(w, r)
	})
	hits := func(path string) int {
		mu.Lock()
		defer mu.Unlock()
		return paths[path]
	}
	cfg := func(cdn, path string) Config {
		return Config{CDN: cdn, URL: ts.URL + path, Interval: 20 * time.Millisecond, Timeout: 20 * time.Millisecond}
	}

	reg := prometheus.NewRegistry()
	col := newCollector()
	r := NewRunner(reg, col.sink, nil)
	defer r.Stop()

	r.Update([]Config{cfg("a", "/a"), cfg("b", "/b")})
	col.await(t, "results for a and b", func(s []health.Signal) bool { return successes(s, "a") > 0 && successes(s, "b") > 0 })
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	if series(t, reg, "b") == 0 {
		t.Fatal("no series for b while it runs")
	}
	loopA := r.loops["a"]

	// Remove b, add c, keep a.
	r.Update([]Config{cfg("a", "/a"), cfg("c", "/c")})
	bAfter := len(of(col.snapshot(), "b"))
	if n := series(t, reg, "b"); n != 0 {
		t.Errorf("%d series left for removed b", n)
	}
	if _, ok := r.Last("b"); ok {
		t.Error("Last(b) still answers after b was removed")
	}
	aBefore := successes(col.snapshot(), "a")
	col.await(t, "more results for a, and c", func(s []health.Signal) bool {
		return successes(s, "a") >= aBefore+3 && successes(s, "c") > 0
	})
	if n := len(of(col.snapshot(), "b")); n != bAfter {
		t.Errorf("%d signals for b after its removal", n-bAfter)
	}
	if r.loops["a"] != loopA {
		t.Error("unchanged probe a was restarted")
	}
	if res, ok := r.Last("c"); !ok || res.Err != nil {
		t.Errorf("Last(c) = %v, %v", res.Err, ok)
	}

	// Change a's URL, keep c.
	loopC := r.loops["c"]
	r.Update([]Config{cfg("a", "/a2"), cfg("c", "/c")})
	if r.loops["a"] == loopA {
		t.Error("changed probe a was not restarted")
	}
	if r.loops["c"] != loopC {
		t.Error("unchanged probe c was restarted")
	}
	select {
	case <-loopA.done:
	default:
		t.Error("Update returned before a's old goroutine ended")
	}
	col.await(t, "a probing its new URL", func([]health.Signal) bool { return hits("/a2") > 0 })
	if series(t, reg, "a") == 0 {
		t.Error("a's series dropped on a change")
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	if v := testutil.ToFloat64(r.metrics.results.WithLabelValues("c", "success")); v < 1 {
		t.Errorf("c successes counted %v", v)
	}
}

func TestRunnerStopWaits(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	defer close(release)
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case started <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	col := newCollector()
	r := NewRunner(prometheus.NewRegistry(), col.sink, nil)
	r.Update([]Config{{CDN: "hang", URL: ts.URL, Interval: timeout, Timeout: timeout}})
	l := r.loops["hang"]
	receive(t, "probe", started)

	begin := time.Now()
	r.Stop()
	if took := time.Since(begin); took >= timeout/2 {
		t.Errorf("Stop took %s: it should cut the probe short, not wait out its %s timeout", took, timeout)
	}
	select {
	case <-l.done:
	default:
		t.Fatal("Stop returned before the probe goroutine ended")
	}
	if n := len(col.snapshot()); n != 0 {
		t.Errorf("%d signals from a probe cut short by Stop", n)
	}
	r.Update([]Config{{CDN: "late", URL: ts.URL}})
	if len(r.loops) != 0 {
		t.Error("Update after Stop started probes")
	}
	r.Stop() // twice is harmless
}

func TestRunnerRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	r := NewRunner(nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	defer r.Stop()
	r.Update([]Config{{CDN: "bad", URL: "ftp://cdn.invalid/"}})
	if len(r.loops) != 0 {
		t.Error("invalid probe started")
	}
	if !strings.Contains(logs.String(), "scheme must be http or https") {
		t.Errorf("log %q does not say why", logs.String())
	}
}
