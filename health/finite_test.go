package health

import (
	"encoding/json"
	"math"
	"testing"
	"time"
)

// checkFinite fails t when a published weight or anything in the view is
// not a finite number, and when the view does not encode as JSON (which
// is how /api/v1/state would fail).
func checkFinite(t *testing.T, e *Engine, at time.Time) View {
	t.Helper()
	tab := e.Table()
	for ri := range e.cfg.Regions {
		w := tab.Get(0, ri)
		if w == nil || !(w.Total() > 0) {
			t.Fatalf("region %d: weights %v leave nothing to answer with", ri, w)
		}
	}
	v := e.View(at)
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("view does not encode: %v", err)
	}
	for _, rv := range v.Policies[0].Regions {
		for _, c := range rv.CDNs {
			for _, x := range []float64{c.Weight, c.Share, c.CapacityFactor} {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					t.Fatalf("%s/%s: %+v", rv.Name, c.Name, c)
				}
			}
		}
	}
	return v
}

// TestNonFiniteCapacityFailsOpen: with an infinite hard limit (which the
// policy compiler refuses, but a caller of the engine may still build),
// the weights published must still be numbers an answer can be drawn
// from (the capacity step plans in Gbit/s: an infinite limit is no
// limit, not a NaN weight).
func TestNonFiniteCapacityFailsOpen(t *testing.T) {
	cfg := testConfig()
	cfg.Policies[0].Params.CapacityHard = math.Inf(1)
	e := NewEngine(cfg, nil)
	run(e, t0, 5, func(cdn string, at time.Time) Signal {
		s := good(cdn, at)
		for _, c := range cfg.CDNs {
			if c.Name == cdn {
				s.Values[Throughput] = F(0.9 * c.CommitGbps)
			}
		}
		return s
	})
	checkFinite(t, e, t0.Add(5*time.Second))
}

// TestNonFiniteBoundKeepsScoresFinite: a bound at infinity makes that
// signal's normalised value NaN. The signal then counts as missing, so
// the smoothed score stays a number, and the engine scores properly again
// once the policy is fixed.
func TestNonFiniteBoundKeepsScoresFinite(t *testing.T) {
	cfg := testConfig()
	cfg.Policies[0].Params.Score[TTFB] = Bounds{Weight: 0.3, Good: 100, Bad: math.Inf(1)}
	e := NewEngine(cfg, nil)
	at := run(e, t0, 5, allGood)
	v := checkFinite(t, e, at)
	for _, c := range v.Policies[0].Regions[0].CDNs {
		if c.Score == nil || !(*c.Score >= 90) {
			t.Errorf("%s: score %v from good readings, want a number of at least 90", c.Name, c.Score)
		}
	}

	e.SetConfig(testConfig(), at)
	at = run(e, at, 5, bad)
	v = checkFinite(t, e, at)
	for _, c := range v.Policies[0].Regions[0].CDNs {
		if c.Score == nil || !(*c.Score < 10) {
			t.Errorf("%s: score %v after bad readings under the fixed policy, want under 10", c.Name, c.Score)
		}
	}
}

// TestScoreIgnoresNonFiniteNormalisation is the same at the level of one
// score: the other signals decide it.
func TestScoreIgnoresNonFiniteNormalisation(t *testing.T) {
	p := DefaultParams()
	p.Score[TTFB] = Bounds{Weight: 1, Good: 100, Bad: math.Inf(1)}
	r := Readings{Values: Values{TTFB: F(50), ErrorRate: F(0.001)}}
	s, ok := Score(r, p, 0)
	if !ok || s != 100 {
		t.Errorf("Score = %v, %v; want 100 from the error rate alone", s, ok)
	}
	s, ok = Score(Readings{Values: Values{TTFB: F(50)}}, p, 0)
	if ok || math.IsNaN(s) {
		t.Errorf("Score = %v, %v from an unusable reading alone; want no score", s, ok)
	}
}

func TestCapacityFactorNonFinite(t *testing.T) {
	p := DefaultParams()
	p.CapacityHard = math.Inf(1)
	if k := CapacityFactor(0.9, p); k != 0 {
		t.Errorf("CapacityFactor with an infinite hard limit = %v, want 0", k)
	}
	if k := CapacityFactor(math.NaN(), DefaultParams()); k != 0 {
		t.Errorf("CapacityFactor(NaN) = %v, want 0", k)
	}
}

// TestNonFiniteDriftFailsOpen reaches the weights by another road: with no
// drift time (refused by Params.Validate, possible for a caller of the
// engine), the first stale evaluation divides zero by zero. Whatever the
// road, a weight that is not a number counts as zero before the fail-open
// test.
func TestNonFiniteDriftFailsOpen(t *testing.T) {
	cfg := testConfig()
	cfg.Policies[0].Params.StaticDrift = 0
	e := NewEngine(cfg, nil)
	at := run(e, t0, 5, allGood)
	at = at.Add(time.Minute)
	e.Evaluate(at)
	v := checkFinite(t, e, at)
	if !v.Policies[0].Regions[0].FailedOpen {
		t.Errorf("weights unusable but the region did not fail open: %+v", v.Policies[0].Regions[0])
	}
}

// TestNonFiniteSmoothingKeepsScoresFinite: a smoothing factor that is not
// a number must not leave NaN in the score, where it would stay.
func TestNonFiniteSmoothingKeepsScoresFinite(t *testing.T) {
	cfg := testConfig()
	cfg.Policies[0].Params.SmoothingDown = math.NaN()
	e := NewEngine(cfg, nil)
	at := run(e, t0, 5, bad)
	for _, c := range checkFinite(t, e, at).Policies[0].Regions[0].CDNs {
		if c.Score == nil {
			t.Errorf("%s: no score after 5 bad readings", c.Name)
		}
	}
}

// TestNonFiniteSignals: a pushed value that is not a number is refused
// outright, and one that reaches the store by another road (a source
// that forgot to check) is dropped as if not measured.
func TestNonFiniteSignals(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		for k := range NumKinds {
			s := Signal{CDN: "akamai", Time: t0}
			s.Values[k] = F(v)
			if err := e.CheckSignal(s); err == nil {
				t.Errorf("%s = %v accepted", k.Key(), v)
			}
		}
	}
	run(e, t0, 3, func(cdn string, at time.Time) Signal {
		s := good(cdn, at)
		s.Values[TTFB], s.Values[Throughput] = F(math.NaN()), F(math.Inf(1))
		return s
	})
	v := checkFinite(t, e, t0.Add(3*time.Second))
	for _, c := range v.Policies[0].Regions[0].CDNs {
		if c.Signals.Values[TTFB] != nil || c.Signals.Values[Throughput] != nil {
			t.Errorf("%s: non-finite readings kept: %+v", c.Name, c.Signals)
		}
	}
}
