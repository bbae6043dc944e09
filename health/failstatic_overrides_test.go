package health

import (
	"math"
	"testing"
	"time"
)

// Overrides are operators' decisions: they apply, and stop applying, at
// the next evaluation, even in a region whose telemetry is stale. What
// fail-static holds is the split health gave, not the overrides' effect.

// shareOf is a CDN's share of region ri's traffic in the table published.
func shareOf(tab *Table, ri, ci int) float64 {
	w := tab.Get(0, ri)
	return w.W[ci] / w.Total()
}

// goStale stops every signal until region default is stale, and returns
// the time after the last evaluation.
func goStale(t *testing.T, e *Engine, at time.Time) time.Time {
	t.Helper()
	silent := func(string, time.Time) Signal { return Signal{} }
	at = run(e, at, int(DefaultParams().SignalMaxAge/time.Second)+2, silent)
	if !e.View(at).Policies[0].Regions[0].Stale {
		t.Fatal("region default is not stale after signal_max_age of silence")
	}
	return at
}

const akamai, fastly = 0, 3

func TestDrainEndedWhileStaleGivesBackTheHeldShare(t *testing.T) {
	e := NewEngine(testConfig(), &memJournal{})
	at := run(e, t0, 10, allGood)
	// fastly out: the health split is no longer the baseline, so the
	// share given back can be told from the baseline's.
	at = run(e, at, 10, fastlyBadFrom(at))
	held := shareOf(e.Table(), 0, akamai)
	if base := 40.0 / 100; math.Abs(held-base) < 0.05 {
		t.Fatalf("akamai's health share %v is too near its baseline share %v to tell them apart", held, base)
	}
	drain, err := e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Region: "default", Reason: "test", Expires: at.Add(time.Hour)}, at)
	if err != nil {
		t.Fatal(err)
	}
	at = run(e, at, 3, fastlyBadFrom(t0))
	if w := weightOf(e.Table(), 0, akamai); w != 0 {
		t.Fatalf("drained akamai weighs %v", w)
	}
	at = goStale(t, e, at)
	if w := weightOf(e.Table(), 0, akamai); w != 0 {
		t.Fatalf("drained akamai weighs %v once the region is stale", w)
	}
	if err := e.DeleteOverride(drain.ID, at, "done"); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	// The drift to the baseline has run for a few seconds of its ten
	// minutes: a hair of difference at most.
	if got := shareOf(e.Table(), 0, akamai); math.Abs(got-held) > 0.01 {
		t.Errorf("akamai's share %.3f at the evaluation after its drain ended in a stale region, want its held share %.3f", got, held)
	}
	if w := weightOf(e.Table(), 0, fastly); w > 1 {
		t.Errorf("fastly weighs %v: the held split (fastly out) must stand", w)
	}
}

func TestDrainEndedWhileStaleWithNothingHeldGivesTheBaseline(t *testing.T) {
	e := NewEngine(testConfig(), &memJournal{})
	// Drained before any evaluation: no health share was ever held for it.
	drain, err := e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Region: "default", Reason: "test", Expires: t0.Add(time.Hour)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	at := run(e, t0, 10, allGood)
	at = goStale(t, e, at)
	if w := weightOf(e.Table(), 0, akamai); w != 0 {
		t.Fatalf("drained akamai weighs %v", w)
	}
	if err := e.DeleteOverride(drain.ID, at, "done"); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	base := testConfig().Policies[0].Baseline[0]
	if got, want := shareOf(e.Table(), 0, akamai), base[akamai]/sum(base); math.Abs(got-want) > 0.01 {
		t.Errorf("akamai's share %.3f after its drain ended in a stale region, want its baseline share %.3f", got, want)
	}
}

func TestDrainMadeWhileStaleZeroesAtOnce(t *testing.T) {
	e := NewEngine(testConfig(), &memJournal{})
	at := run(e, t0, 10, allGood)
	at = goStale(t, e, at)
	if w := weightOf(e.Table(), 0, akamai); w == 0 {
		t.Fatal("akamai already at 0")
	}
	drain, err := e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Region: "default", Reason: "test", Expires: at.Add(time.Hour)}, at)
	if err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	if w := weightOf(e.Table(), 0, akamai); w != 0 {
		t.Errorf("akamai weighs %v at the evaluation after it was drained in a stale region", w)
	}
	held := shareOf(e.Table(), 0, 1)
	// Drained and ended within the same staleness: the held split again.
	at = at.Add(time.Second)
	if err := e.DeleteOverride(drain.ID, at, "done"); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	if got, want := shareOf(e.Table(), 0, akamai), 0.4; math.Abs(got-want) > 0.01 {
		t.Errorf("akamai's share %.3f after a drain made and ended while stale, want the held %.3f", got, want)
	}
	if got := shareOf(e.Table(), 0, 1); got >= held {
		t.Errorf("cloudfront kept akamai's share (%.3f, %.3f while akamai was drained)", got, held)
	}
}

func TestPinWhileStaleAppliesAndEndsAtOnce(t *testing.T) {
	e := NewEngine(testConfig(), &memJournal{})
	at := run(e, t0, 10, allGood)
	at = run(e, at, 10, fastlyBadFrom(at))
	held := shareOf(e.Table(), 0, akamai)
	// A pin made before the staleness, ended during it.
	pin, err := e.AddOverride(Override{Action: ActionPin, CDN: "edgio", Region: "default", Reason: "test", Expires: at.Add(time.Hour)}, at)
	if err != nil {
		t.Fatal(err)
	}
	at = run(e, at, 3, fastlyBadFrom(t0))
	at = goStale(t, e, at)
	if got := shareOf(e.Table(), 0, 2); got != 1 {
		t.Fatalf("edgio's share %v while pinned", got)
	}
	if err := e.DeleteOverride(pin.ID, at, "done"); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	if got := shareOf(e.Table(), 0, akamai); math.Abs(got-held) > 0.01 {
		t.Errorf("akamai's share %.3f at the evaluation after a pin ended in a stale region, want its held %.3f", got, held)
	}
	// A pin made while stale.
	at = at.Add(time.Second)
	if _, err := e.AddOverride(Override{Action: ActionPin, CDN: "cloudfront", Region: "default", Reason: "test", Expires: at.Add(time.Hour)}, at); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	if got := shareOf(e.Table(), 0, 1); got != 1 {
		t.Errorf("cloudfront's share %v at the evaluation after it was pinned in a stale region", got)
	}
}

func TestDrainEndedWhileStaleKeepsWhatHealthSaidSince(t *testing.T) {
	e := NewEngine(testConfig(), &memJournal{})
	at := run(e, t0, 10, allGood)
	drain, err := e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Region: "default", Reason: "test", Expires: at.Add(time.Hour)}, at)
	if err != nil {
		t.Fatal(err)
	}
	// akamai fails while drained: health has it out.
	akamaiBad := func(cdn string, ts time.Time) Signal {
		if cdn == "akamai" {
			return bad(cdn, ts)
		}
		return good(cdn, ts)
	}
	at = run(e, at, 10, akamaiBad)
	if s := e.ix.cdn(0, 0, akamai).status; s != Degraded {
		t.Fatalf("akamai is %s after 10 s of bad signals, want degraded", s)
	}
	at = goStale(t, e, at)
	if err := e.DeleteOverride(drain.ID, at, "done"); err != nil {
		t.Fatal(err)
	}
	e.Evaluate(at)
	if w := weightOf(e.Table(), 0, akamai); w > 1 {
		t.Errorf("akamai, degraded during its drain, weighs %v once the drain ended in a stale region, want about 0 (drifting)", w)
	}
}
