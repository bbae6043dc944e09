package health

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A region that has had no signal since start is stale once signal_max_age
// has passed: in the view, on /metrics and in the decision log, with its
// baseline split untouched; a region with signals of its own is not; the
// first fresh signal ends it.
func TestRegionWithoutSignalSinceStartIsStale(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	p := DefaultParams()
	krOnly := func(cdn string, at time.Time) Signal {
		s := good(cdn, at)
		s.Region = "kr"
		return s
	}
	stale := func(region int) bool { return e.View(t0).Policies[0].Regions[region].Stale }
	at := run(e, t0, int(p.SignalMaxAge/time.Second)-1, krOnly)
	if stale(0) || stale(1) || len(j.kinds(DecisionStale)) != 0 {
		t.Fatalf("stale before signal_max_age: default %v kr %v, %d decisions", stale(0), stale(1), len(j.kinds(DecisionStale)))
	}
	at = run(e, at, 3, krOnly)
	if !stale(0) {
		t.Fatal("default, never measured for signal_max_age, is not stale")
	}
	if stale(1) {
		t.Error("kr, measured, is stale")
	}
	ds := j.kinds(DecisionStale)
	if len(ds) != 1 || ds[0].Region != "default" || !strings.Contains(ds[0].Reason, "since it was first evaluated") {
		t.Fatalf("stale decisions %+v", ds)
	}
	for ci, w := range testConfig().Policies[0].Baseline[0] {
		if got := weightOf(e.Table(), 0, ci); got != w {
			t.Errorf("cdn %d: weight %v, want the baseline %v", ci, got, w)
		}
	}
	c := NewCollector(e)
	if n := testutil.CollectAndCount(c, "cdnsteer_region_telemetry_stale"); n != 2 {
		t.Fatalf("%d stale series", n)
	}
	want := "# HELP cdnsteer_region_telemetry_stale Policies in which no CDN of the region has a fresh signal (fail static).\n# TYPE cdnsteer_region_telemetry_stale gauge\ncdnsteer_region_telemetry_stale{region=\"default\"} 1\ncdnsteer_region_telemetry_stale{region=\"kr\"} 0\n"
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "cdnsteer_region_telemetry_stale"); err != nil {
		t.Error(err)
	}

	run(e, at, 1, allGood)
	if stale(0) {
		t.Error("still stale after a fresh signal")
	}
	if len(j.kinds(DecisionStaleEnd)) != 1 {
		t.Errorf("stale_end decisions: %+v", j.kinds(DecisionStaleEnd))
	}
}
