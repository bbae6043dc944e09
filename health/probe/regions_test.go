package probe

import (
	"errors"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// A probe that names its regions gives one signal per region, each with
// the probe's values; one that names none gives one for all regions.
func TestRegionsSignals(t *testing.T) {
	s := health.Signal{CDN: "fastly", Values: health.Values{health.ErrorRate: health.F(1)}}
	if got := (Regions{}).signals(s); len(got) != 1 || got[0].Region != "" {
		t.Errorf("no regions: %+v, want one all-regions signal", got)
	}
	got := NewRegions("kr", "jp").signals(s)
	if len(got) != 2 || got[0].Region != "kr" || got[1].Region != "jp" || *got[1].Values[health.ErrorRate] != 1 {
		t.Errorf("kr, jp: %+v", got)
	}
	if NewRegions("kr") != NewRegions("kr") || NewRegions("kr") == NewRegions("jp") {
		t.Error("Regions must compare by their names")
	}
}

// A probe's failure from its one vantage degrades the CDN only in the
// regions it speaks for: the engine, fed what the runner hands on, keeps
// the CDN at its weight elsewhere.
func TestProbeFailureDegradesOnlyItsRegions(t *testing.T) {
	cfg := health.Config{
		CDNs:    []health.CDNInfo{{Name: "akamai"}, {Name: "fastly"}},
		Regions: []string{"default", "kr"},
		Policies: []health.PolicyInfo{{Name: "live", Params: health.DefaultParams(),
			Baseline: [][]float64{{50, 50}, {50, 50}}}},
	}
	e := health.NewEngine(cfg, nil)
	at := time.Date(2026, 6, 14, 11, 0, 0, 0, time.UTC)
	for range 10 {
		for _, cdn := range []string{"akamai", "fastly"} {
			res := Result{CDN: cdn, Start: at, Status: 200, TTFB: 50 * time.Millisecond}
			if cdn == "fastly" {
				res.Err = errors.New("connection refused")
			}
			for _, s := range NewRegions("kr").signals(res.Signal()) {
				e.Push(s)
			}
		}
		e.Evaluate(at)
		at = at.Add(time.Second)
	}
	tab := e.Table()
	if w := tab.Get(0, 1).W[1]; w != 0 {
		t.Errorf("fastly in kr, where its probe fails: weight %v, want 0", w)
	}
	if w := tab.Get(0, 0).W[1]; w == 0 {
		t.Error("fastly degraded in the default region on a probe that speaks for kr only")
	}
}
