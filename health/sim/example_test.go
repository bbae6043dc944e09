package sim

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// TestFootballExample keeps the committed example valid: its policy and
// scenario load, say what the README says, and the first minutes run.
// The whole match is BenchmarkFootball's job.
func TestFootballExample(t *testing.T) {
	snap, err := zones.Load("../../zones/examples/football.toml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario("../../zones/examples/football-scenario.toml", snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.CDNs) != 4 || len(sc.Regions) != 6 || sc.Curve.Peak() != 1.8e6 || len(sc.Faults) != 2 || len(sc.Overrides) != 1 {
		t.Errorf("%d CDNs, %d regions, peak %g, %d faults, %d overrides", len(sc.CDNs), len(sc.Regions), sc.Curve.Peak(), len(sc.Faults), len(sc.Overrides))
	}
	if kr := sc.Regions[4]; kr.Name != "kr" || kr.Share != 0.5 {
		t.Errorf("kr = %+v", kr)
	}
	// The baseline puts edgio over its commit before the peak.
	if s := sc.CDNSaturation(2); sc.CDNs[2].Name != "edgio" || s.Audience >= 1.8e6 {
		t.Errorf("edgio saturation %+v", s)
	}
	sc.Duration = 5 * time.Minute
	res := mustRun(t, sc, nil)
	if res.Summary.PeakAudience < 150000 || res.Groups < 10000 {
		t.Errorf("peak %d, %d groups", res.Summary.PeakAudience, res.Groups)
	}
}
