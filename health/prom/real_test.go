package prom

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestAgainstRealPrometheus runs the source against a real Prometheus
// scraping an exporter the test controls: the one check that the queries,
// the client and the server agree. scripts/prometheus-test.sh runs it.
func TestAgainstRealPrometheus(t *testing.T) {
	bin := os.Getenv("CDNSTEER_PROMETHEUS")
	if bin == "" {
		t.Skip("set CDNSTEER_PROMETHEUS=/usr/bin/prometheus")
	}
	ctx := t.Context()
	exp := newExporter(t, map[string]float64{
		`cdn_ttfb_ms{cdn="fastly",region="kr"}`:     850,
		`cdn_ttfb_ms{cdn="akamai",region="kr"}`:     95,
		`cdn_errors_ratio{cdn="akamai"}`:            0.02,
		`cdn_errors_ratio{cdn="edgio",region="kr"}`: 0.08, // from a feed two minutes late

		`cdn_cache_hit_ratio{cdn="fastly"}`:                           0.93,
		`cdn_cache_hit_ratio{cdn="akamai"}`:                           1.5, // out of range
		`cdn_cache_hit_ratio{region="kr"}`:                            0.9, // no cdn
		`cdn_delivered_gbps{cdn="akamai",region="kr"}`:                120,
		`cdn_requests_per_second{cdn="fastly",region="kr",pop="icn"}`: 300,
		`cdn_requests_per_second{cdn="fastly",region="kr",pop="pus"}`: 200,
		`cdn_requests_per_second{cdn="akamai"}`:                       1000,
	})
	// A lagging feed's exporter dates its samples with the data's time;
	// Prometheus keeps that time, and an instant query hides it.
	lateAt := time.Now().Add(-2 * time.Minute).Truncate(time.Millisecond)
	exp.stamp(`cdn_errors_ratio{cdn="edgio",region="kr"}`, lateAt)
	started := time.Now()
	srv := startPrometheus(t, bin, strings.TrimPrefix(exp.URL, "http://"))
	t.Logf("prometheus %s ready on %s in %v", promVersion(t, srv.addr), srv.addr, time.Since(started).Round(time.Millisecond))

	logs := &logBuf{}
	ts := testSource{reg: prometheus.NewRegistry(), got: &collector{}, logs: logs}
	s, err := New(Config{
		URL:     "http://" + srv.addr,
		Timeout: 2 * time.Second,
		Queries: map[string]string{
			"ttfb_ms":         "cdn_ttfb_ms",
			"error_rate":      "cdn_errors_ratio",
			"cache_hit_ratio": "cdn_cache_hit_ratio",
			"throughput_gbps": "cdn_delivered_gbps",
		},
		Samples: "sum by (cdn, region) (cdn_requests_per_second)",
		// Each series dated by its own sample, as a policy should.
		Timestamps: map[string]string{
			"ttfb_ms":         "timestamp(cdn_ttfb_ms)",
			"error_rate":      "timestamp(cdn_errors_ratio)",
			"cache_hit_ratio": "timestamp(cdn_cache_hit_ratio)",
			"throughput_gbps": "max by (cdn, region) (timestamp(cdn_delivered_gbps))",
		},
	}, ts.reg, ts.got.sink, slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts.Source = s

	want := []string{
		"akamai/kr ttfb_ms=95 n=1 prometheus",
		"fastly/kr ttfb_ms=850 n=500 prometheus",
		"akamai/ error_rate=0.02 n=1000 prometheus",
		"edgio/kr error_rate=0.08 n=1 prometheus",
		"fastly/ cache_hit_ratio=0.93 n=1 prometheus",
		"akamai/kr throughput_gbps=120 n=1 prometheus",
	}
	// pollFor polls until a round yields exactly want: the first scrapes,
	// or a changed value, take Prometheus a second or two to show.
	pollFor := func(what string, want []string) {
		t.Helper()
		w := strings.Join(want, "\n")
		start := time.Now()
		err := await(ctx, 30*time.Second, func() error {
			ts.got.take()
			if err := ts.Poll(ctx); err != nil {
				return err
			}
			if d := describeAll(ts.got.take()); d != w {
				return fmt.Errorf("signals:\n%s\nwant:\n%s", d, w)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: seen through prometheus in %v", what, time.Since(start).Round(time.Millisecond))
	}
	pollFor("first scrape", want)

	// Now that the data is in, one round must give exactly the signals.
	before := time.Now()
	if err := ts.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got := ts.got.take()
	if d := describeAll(got); d != strings.Join(want, "\n") {
		t.Fatalf("signals:\n%s\nwant:\n%s", d, strings.Join(want, "\n"))
	}
	// Scraped series are dated by their scrape (every second), the late
	// feed's by its data: two minutes old, where an instant query alone
	// said "now" (TestPollEmitsOneSignalPerSeries).
	for _, sig := range got {
		if sig.CDN == "edgio" {
			if !sig.Time.Equal(lateAt) {
				t.Errorf("%s: time %v, want its data's %v (%v old)", describe(sig), sig.Time, lateAt, time.Since(lateAt).Round(time.Second))
			}
		} else if from := before.Add(-5 * time.Second); sig.Time.Before(from) || sig.Time.After(after) {
			t.Errorf("%s: time %v, want its last scrape's in [%v, %v]", describe(sig), sig.Time, from, after)
		}
	}
	if !ts.Healthy() {
		t.Error("not healthy after a good round")
	}
	for _, r := range []string{dropOutOfRange, dropNoCDN} {
		if n := testutil.ToFloat64(ts.m.dropped.WithLabelValues("cache_hit_ratio", r)); n == 0 {
			t.Errorf("no cache_hit_ratio series dropped for %s", r)
		}
	}

	exp.set(`cdn_ttfb_ms{cdn="fastly",region="kr"}`, 400)
	want[1] = "fastly/kr ttfb_ms=400 n=500 prometheus"
	pollFor("changed value", want)

	errorsBefore := map[string]float64{}
	for _, k := range append(signalKeys(), samplesKey) {
		errorsBefore[k] = counter(t, ts, k, resultError)
		if k != samplesKey {
			errorsBefore["timestamps."+k] = counter(t, ts, "timestamps."+k, resultError)
		}
	}
	stopping := time.Now()
	if err := srv.stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("prometheus stopped by sigterm in %v", time.Since(stopping).Round(time.Millisecond))
	err = ts.Poll(ctx)
	if err == nil {
		t.Fatal("poll of a stopped Prometheus succeeded")
	}
	t.Logf("poll of the stopped server:\n%v", err)
	if got := ts.got.take(); len(got) != 0 {
		t.Errorf("a stopped Prometheus gave signals (they must go stale, not zero):\n%s", describeAll(got))
	}
	for k, n := range errorsBefore {
		if m := counter(t, ts, k, resultError); m != n+1 {
			t.Errorf("%s errors went from %v to %v, want one more", k, n, m)
		}
	}
	if ts.Healthy() {
		t.Error("healthy while Prometheus is down")
	}
	if n := logs.count("prometheus query failing"); n != len(errorsBefore) {
		t.Errorf("%d failure logs, want one per query", n)
	}

	// Back on the same port and storage, the source recovers by itself.
	if err := srv.start(t); err != nil {
		t.Fatalf("restart: %v", err)
	}
	pollFor("after restart", want)
	if !ts.Healthy() || logs.count("prometheus query recovered") != len(errorsBefore) {
		t.Errorf("healthy %v after restart; logs:\n%s", ts.Healthy(), logs.b.String())
	}
	t.Logf("whole run against prometheus: %v", time.Since(started).Round(time.Millisecond))
}

// promVersion asks the server its version, for the test log.
func promVersion(t *testing.T, addr string) string {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	bi, err := v1.NewAPI(c).Buildinfo(t.Context())
	if err != nil {
		return "(version unknown: " + err.Error() + ")"
	}
	return bi.Version
}
