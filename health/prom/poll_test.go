package prom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
)

var allQueries = map[string]string{
	"ttfb_ms":         "ttfb",
	"error_rate":      "errors",
	"cache_hit_ratio": "hits",
	"throughput_gbps": "gbps",
}

// describe renders a signal's place, field and value, for comparing.
func describe(s health.Signal) string {
	var parts []string
	for k, v := range s.Values {
		if v != nil {
			parts = append(parts, fmt.Sprintf("%s=%g", health.Kind(k).Key(), *v))
		}
	}
	return fmt.Sprintf("%s/%s %s n=%d %s", s.CDN, s.Region, strings.Join(parts, ","), s.Samples, s.Source)
}

func describeAll(sigs []health.Signal) string {
	lines := make([]string, len(sigs))
	for i, s := range sigs {
		lines[i] = describe(s)
	}
	return strings.Join(lines, "\n")
}

func counter(t *testing.T, ts testSource, signal, result string) float64 {
	t.Helper()
	return testutil.ToFloat64(ts.m.queries.WithLabelValues(signal, result))
}

func TestPollEmitsOneSignalPerSeries(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{
		series("850", "cdn", "fastly", "region", "kr"),
		series("95.5", "cdn", "akamai", "__name__", "cdn_ttfb_ms", "instance", "x:1"),
	}})
	f.set("errors", answer{series: []map[string]string{series("0.02", "cdn", "akamai")}})
	f.set("hits", answer{series: []map[string]string{
		series("0.97", "cdn", "fastly"),
		series("1.5", "cdn", "akamai"),     // out of range
		series("0.9", "region", "kr"),      // no cdn
		series("NaN", "cdn", "cloudfront"), // not finite
	}})
	f.set("gbps", answer{series: []map[string]string{series("120", "cdn", "akamai", "region", "kr")}})
	f.set("reqs", answer{series: []map[string]string{
		series("500", "cdn", "fastly", "region", "kr"),
		series("1000", "cdn", "akamai"),
	}})
	ts := newTestSource(t, Config{URL: f.URL, Queries: allQueries, Samples: "reqs"})

	before := time.Now()
	if err := ts.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got := ts.got.take()
	want := strings.Join([]string{
		"akamai/ ttfb_ms=95.5 n=1000 prometheus",
		"fastly/kr ttfb_ms=850 n=500 prometheus",
		"akamai/ error_rate=0.02 n=1000 prometheus",
		"fastly/ cache_hit_ratio=0.97 n=1 prometheus",
		"akamai/kr throughput_gbps=120 n=1 prometheus",
	}, "\n")
	if d := describeAll(got); d != want {
		t.Errorf("signals:\n%s\nwant:\n%s", d, want)
	}
	for _, s := range got {
		// One instant for the whole round, as sent to Prometheus (ms precision).
		if !s.Time.Equal(got[0].Time) || s.Time.Before(before.Truncate(time.Millisecond)) || s.Time.After(after) {
			t.Errorf("%s: time %v, want one time within the poll [%v, %v]", describe(s), s.Time, before, after)
		}
	}
	if !ts.Healthy() {
		t.Error("not healthy after a good round")
	}
	if ls := ts.LastSuccess(); ls.Before(before) || ls.After(after) {
		t.Errorf("last success %v, want within the poll", ls)
	}
	for _, k := range []string{"ttfb_ms", "error_rate", "cache_hit_ratio", "throughput_gbps", samplesKey} {
		if n := counter(t, ts, k, resultSuccess); n != 1 {
			t.Errorf("%s successes = %v, want 1", k, n)
		}
	}
	for reason, want := range map[string]float64{dropOutOfRange: 1, dropNoCDN: 1, dropNotFinite: 1, dropDuplicate: 0} {
		if n := testutil.ToFloat64(ts.m.dropped.WithLabelValues("cache_hit_ratio", reason)); n != want {
			t.Errorf("cache_hit_ratio dropped for %s = %v, want %v", reason, n, want)
		}
	}
	if n := testutil.ToFloat64(ts.m.lastSuccess); n < float64(before.Unix()) {
		t.Errorf("last success gauge = %v", n)
	}
}

// A query that fails, or answers with warnings, emits nothing; the others
// still do.
func TestPollFailingQueriesEmitNothing(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{status: http.StatusUnprocessableEntity, errType: "execution"})
	f.set("errors", answer{warnings: []string{"remote store unreachable"}, series: []map[string]string{series("0.5", "cdn", "akamai")}})
	f.set("hits", answer{rtype: "scalar"})
	f.set("gbps", answer{series: []map[string]string{series("7", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Queries: allQueries})

	err := ts.Poll(t.Context())
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"ttfb_ms (ttfb)", "cannot run ttfb", "error_rate (errors): warnings: remote store unreachable", "cache_hit_ratio (hits): result is a scalar, want a vector"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if d := describeAll(ts.got.take()); d != "akamai/ throughput_gbps=7 n=1 prometheus" {
		t.Errorf("signals:\n%s\nwant only the throughput", d)
	}
	for k, want := range map[string]float64{"ttfb_ms": 1, "error_rate": 1, "cache_hit_ratio": 1, "throughput_gbps": 0} {
		if n := counter(t, ts, k, resultError); n != want {
			t.Errorf("%s errors = %v, want %v", k, n, want)
		}
	}
	if ts.Healthy() || !ts.LastSuccess().IsZero() {
		t.Error("healthy after a partly failed round")
	}
}

// A failed samples query costs the counts, not the signals: the values are
// as good as ever.
func TestPollSamplesFailing(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Queries: map[string]string{"ttfb_ms": "ttfb"}, Samples: "missing"})
	if err := ts.Poll(t.Context()); err == nil || !strings.Contains(err.Error(), "samples") {
		t.Errorf("err = %v, want the samples query's", err)
	}
	if d := describeAll(ts.got.take()); d != "akamai/ ttfb_ms=80 n=1 prometheus" {
		t.Errorf("signals: %s", d)
	}
	if ts.Healthy() {
		t.Error("healthy with a failing samples query")
	}
}

func TestPollTimeout(t *testing.T) {
	f := newFakeProm(t)
	hang := make(chan struct{})
	defer close(hang)
	f.set("ttfb", answer{wait: hang})
	f.set("gbps", answer{series: []map[string]string{series("7", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Timeout: 200 * time.Millisecond,
		Queries: map[string]string{"ttfb_ms": "ttfb", "throughput_gbps": "gbps"}})

	start := time.Now()
	err := ts.Poll(t.Context())
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("poll took %v with a 200ms timeout", took)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "ttfb_ms") {
		t.Errorf("err = %v, want the ttfb query's deadline", err)
	}
	if d := describeAll(ts.got.take()); d != "akamai/ throughput_gbps=7 n=1 prometheus" {
		t.Errorf("signals: %s", d)
	}
	if n := counter(t, ts, "ttfb_ms", resultError); n != 1 {
		t.Errorf("ttfb errors = %v", n)
	}
}

func TestPollDown(t *testing.T) {
	f := newFakeProm(t)
	f.Close()
	ts := newTestSource(t, Config{URL: f.URL, Queries: allQueries})
	err := ts.Poll(t.Context())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %v, want connection refused", err)
	}
	if got := ts.got.take(); len(got) != 0 {
		t.Errorf("a down Prometheus gave signals:\n%s", describeAll(got))
	}
	for k := range allQueries {
		if n := counter(t, ts, k, resultError); n != 1 {
			t.Errorf("%s errors = %v, want 1", k, n)
		}
	}
}

// A round its caller abandons is not Prometheus's failure.
func TestPollCancelled(t *testing.T) {
	f := newFakeProm(t)
	ts := newTestSource(t, Config{URL: f.URL, Queries: allQueries})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := ts.Poll(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want cancelled", err)
	}
	if n := counter(t, ts, "ttfb_ms", resultError); n != 0 {
		t.Errorf("cancelled round counted %v errors", n)
	}
	if ts.logs.count("failing") != 0 {
		t.Error("cancelled round logged a failure")
	}
}

func TestLogsOncePerStateChange(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{status: http.StatusServiceUnavailable, errType: "unavailable"})
	ts := newTestSource(t, Config{URL: f.URL, Queries: map[string]string{"ttfb_ms": "ttfb"}})
	poll := func(rounds int) {
		for range rounds {
			_ = ts.Poll(t.Context())
		}
	}
	poll(3)
	if n := ts.logs.count("prometheus query failing"); n != 1 {
		t.Errorf("3 failed rounds logged %d times, want once", n)
	}
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai"), series("-1", "cdn", "fastly")}})
	poll(3)
	if n := ts.logs.count("prometheus query recovered"); n != 1 {
		t.Errorf("recovery logged %d times", n)
	}
	if n := ts.logs.count("failed_rounds=3"); n != 1 {
		t.Errorf("recovery does not tell the failed rounds:\n%s", ts.logs.b.String())
	}
	if n := ts.logs.count("unusable series"); n != 1 {
		t.Errorf("drops logged %d times in 3 rounds, want once", n)
	}
	// More of the same kind of bad series is not news; a new kind is.
	f.set("ttfb", answer{series: []map[string]string{series("-1", "cdn", "akamai"), series("-1", "cdn", "fastly")}})
	poll(2)
	if n := ts.logs.count("unusable series"); n != 1 {
		t.Errorf("drops logged %d times, want still once", n)
	}
	f.set("ttfb", answer{series: []map[string]string{series("80", "region", "kr")}})
	poll(2)
	if n := ts.logs.count(`dropped="no_cdn=1"`); n != 1 {
		t.Errorf("a new drop reason logged %d times, want once", n)
	}
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai")}})
	poll(2)
	if n := ts.logs.count("no longer returns unusable series"); n != 1 {
		t.Errorf("the end of drops logged %d times, want once", n)
	}
}

func TestRunPollsUntilCancelled(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Interval: 10 * time.Millisecond, Queries: map[string]string{"ttfb_ms": "ttfb"}})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		ts.Run(ctx)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for ts.got.count() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d rounds in 5s at a 10ms interval", ts.got.count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// A Poll at start stands for Run's first round.
func TestRunAfterPollWaits(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Interval: time.Hour, Queries: map[string]string{"ttfb_ms": "ttfb"}})
	if err := ts.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	ts.Run(ctx)
	if n := f.requests(); n != 1 {
		t.Errorf("%d requests, want only the Poll's", n)
	}
}

func TestRunWithoutPollStartsAtOnce(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Interval: time.Hour, Queries: map[string]string{"ttfb_ms": "ttfb"}})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go ts.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for !ts.Healthy() {
		if time.Now().After(deadline) {
			t.Fatal("Run did not poll at once")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHealthyGoesStale(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Interval: 10 * time.Millisecond, Timeout: 10 * time.Millisecond, Queries: map[string]string{"ttfb_ms": "ttfb"}})
	if err := ts.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Backdate the round rather than sleep: 30ms is past 2 intervals + timeout.
	ts.mu.Lock()
	ts.lastSuccess = ts.lastSuccess.Add(-time.Second)
	ts.mu.Unlock()
	if ts.Healthy() {
		t.Error("healthy although no round ran for a second at a 10ms interval")
	}
}

func TestMetricsLint(t *testing.T) {
	f := newFakeProm(t)
	f.set("ttfb", answer{series: []map[string]string{series("80", "cdn", "akamai"), series("-5", "cdn", "fastly")}})
	f.set("errors", answer{status: http.StatusBadRequest, errType: "bad_data"})
	ts := newTestSource(t, Config{URL: f.URL, Queries: allQueries, Samples: "reqs"})
	_ = ts.Poll(t.Context())
	problems, err := testutil.GatherAndLint(ts.reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	for _, name := range []string{
		"cdnsteer_prometheus_query_total",
		"cdnsteer_prometheus_query_duration_seconds",
		"cdnsteer_prometheus_last_success_timestamp_seconds",
		"cdnsteer_prometheus_dropped_series_total",
	} {
		if n, err := testutil.GatherAndCount(ts.reg, name); err != nil || n == 0 {
			t.Errorf("%s: %d series, %v", name, n, err)
		}
	}
	if n := testutil.ToFloat64(ts.m.dropped.WithLabelValues("ttfb_ms", dropOutOfRange)); n != 1 {
		t.Errorf("ttfb out_of_range = %v, want 1", n)
	}
}
