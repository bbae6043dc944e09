package prom

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// With a timestamps query, each series carries the time of its own data,
// not the query's instant: a feed two minutes late reads two minutes old.
// Series that cannot be dated are dropped and counted, never sent as new.
func TestPollDatesSeriesByTheirTimestamps(t *testing.T) {
	f := newFakeProm(t)
	now := float64(time.Now().Unix())
	f.set("errors", answer{series: []map[string]string{
		series("0.08", "cdn", "fastly", "region", "kr"),
		series("0.01", "cdn", "akamai", "region", "kr"),
		series("0.02", "cdn", "edgio", "region", "kr"),
		series("0.03", "cdn", "cloudfront", "region", "kr"),
	}})
	f.set("errors_ts", answer{series: []map[string]string{
		series(fmt.Sprint(now-120), "cdn", "fastly", "region", "kr"), // two minutes late
		series(fmt.Sprint(now-1), "cdn", "akamai"),                   // all-regions time serves kr
		series(fmt.Sprint(now+3600), "cdn", "cloudfront", "region", "kr"),
		// edgio: no timestamp at all
	}})
	f.set("ttfb", answer{series: []map[string]string{series("90", "cdn", "fastly")}})
	ts := newTestSource(t, Config{URL: f.URL,
		Queries:    map[string]string{"error_rate": "errors", "ttfb_ms": "ttfb"},
		Timestamps: map[string]string{"error_rate": "errors_ts", "ttfb_ms": "ttfb_ts"}})

	// ttfb_ts is unknown to the fake: the TTFB series cannot be dated, so
	// none is sent, and the round is a failure for it.
	err := ts.Poll(t.Context())
	if err == nil || !strings.Contains(err.Error(), "ttfb_ms: its series cannot be dated") {
		t.Errorf("poll error %v, want ttfb_ms undatable", err)
	}
	got := ts.got.take()
	want := "akamai/kr error_rate=0.01 n=1 prometheus\nfastly/kr error_rate=0.08 n=1 prometheus"
	if d := describeAll(got); d != want {
		t.Fatalf("signals:\n%s\nwant:\n%s", d, want)
	}
	if age := time.Since(got[1].Time); age < 119*time.Second || age > 125*time.Second {
		t.Errorf("fastly's error rate is %v old, want its data's two minutes", age)
	}
	if age := time.Since(got[0].Time); age < time.Second || age > 5*time.Second {
		t.Errorf("akamai's error rate is %v old, want about a second (its all-regions timestamp)", age)
	}
	for reason, want := range map[string]float64{dropNoTimestamp: 1, dropFutureTimestamp: 1} {
		if n := testutil.ToFloat64(ts.m.dropped.WithLabelValues("error_rate", reason)); n != want {
			t.Errorf("error_rate dropped for %s = %v, want %v", reason, n, want)
		}
	}
	if n := counter(t, ts, "ttfb_ms", resultError); n != 1 {
		t.Errorf("ttfb_ms errors = %v, want 1", n)
	}
	if n := counter(t, ts, "timestamps.error_rate", resultSuccess); n != 1 {
		t.Errorf("timestamps.error_rate successes = %v, want 1", n)
	}
	if ts.logs.count("returns unusable series") == 0 {
		t.Error("undated series were not logged")
	}
}

// A clock slightly ahead of ours is not the future: such a timestamp
// counts as the query's instant.
func TestPollClampsSlightlyAheadTimestamps(t *testing.T) {
	f := newFakeProm(t)
	f.set("gbps", answer{series: []map[string]string{series("120", "cdn", "akamai")}})
	f.set("gbps_ts", answer{series: []map[string]string{series(fmt.Sprint(time.Now().Unix()+20), "cdn", "akamai")}})
	ts := newTestSource(t, Config{URL: f.URL, Queries: map[string]string{"throughput_gbps": "gbps"}, Timestamps: map[string]string{"throughput_gbps": "gbps_ts"}})
	before := time.Now()
	if err := ts.Poll(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := ts.got.take()
	if len(got) != 1 || got[0].Time.After(time.Now()) || got[0].Time.Before(before.Truncate(time.Millisecond)) {
		t.Fatalf("signals %v: want one, stamped at the query's instant", got)
	}
}
