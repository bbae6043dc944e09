package health

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// fastlyFeed gives good signals for every CDN, except that fastly's are
// bad from badFrom to badTo and stop arriving from stopFrom.
func fastlyFeed(badFrom, badTo, stopFrom time.Time) func(string, time.Time) Signal {
	return func(cdn string, at time.Time) Signal {
		if cdn != "fastly" {
			return good(cdn, at)
		}
		if !at.Before(stopFrom) {
			return Signal{}
		}
		if !at.Before(badFrom) && at.Before(badTo) {
			return bad(cdn, at)
		}
		return good(cdn, at)
	}
}

// One CDN's feed stopping while the others' arrive: that CDN is blind in
// every region, logged, shown and explained, and its share holds; the
// region is not stale. Before, nothing said so.
func TestOneCDNsFeedStoppingIsBlindness(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	stop := t0.Add(30 * time.Second)
	at := run(e, t0, 30, allGood)
	before := e.Table().Get(0, 1).W[3]
	at = run(e, at, 20, fastlyFeed(t0, t0, stop))

	if len(j.kinds(DecisionBlind)) != 2 {
		t.Fatalf("blind decisions %v, want one per region", j.kinds(DecisionBlind))
	}
	d := j.kinds(DecisionBlind)[0]
	if d.CDN != "fastly" || !strings.Contains(d.Reason, "no health signal younger than signal_max_age (15s)") {
		t.Errorf("blind decision %+v", d)
	}
	if len(j.kinds(DecisionStale)) != 0 {
		t.Error("the region went stale over one CDN's feed")
	}
	if w := e.Table().Get(0, 1).W[3]; w != before {
		t.Errorf("fastly's weight moved from %v to %v while blind, want it held", before, w)
	}
	ws := e.Table().Get(0, 1)
	if !slices.Equal(ws.Blind, []string{"fastly"}) || len(ws.Probation) != 0 {
		t.Errorf("published blind %v probation %v", ws.Blind, ws.Probation)
	}
	v := e.View(at)
	cv := v.Policies[0].Regions[1].CDNs[3]
	if !cv.Blind || cv.BlindSince.IsZero() || cv.Probation {
		t.Errorf("view of fastly: %+v", cv)
	}
	if v.Policies[0].Regions[1].CDNs[0].Blind {
		t.Error("akamai blind with fresh signals")
	}

	// Its signals return: no longer blind.
	run(e, at, 2, allGood)
	if len(j.kinds(DecisionBlindEnd)) != 2 {
		t.Errorf("blind_end decisions %v, want one per region", j.kinds(DecisionBlindEnd))
	}
	if ws := e.Table().Get(0, 1); len(ws.Blind) != 0 {
		t.Errorf("still blind: %v", ws.Blind)
	}
}

// A CDN never measured is new, not blind.
func TestUnmeasuredCDNIsNotBlind(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	run(e, t0, 60, func(cdn string, at time.Time) Signal {
		if cdn == "edgio" {
			return Signal{}
		}
		return good(cdn, at)
	})
	if n := len(j.kinds(DecisionBlind)); n != 0 {
		t.Errorf("%d blind decisions for a CDN never measured", n)
	}
}

// A degraded CDN whose feed stopped is re-admitted on probation at a
// small share ProbationAfter after it went blind, not held out for good;
// its signals, once back, decide again. Before: weight 0 to the end.
func TestDegradedBlindCDNIsReadmittedOnProbation(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 10, allGood)
	stop := at.Add(20 * time.Second)
	feed := fastlyFeed(at, stop.Add(time.Hour), stop)
	at = run(e, at, 20, feed)
	if e.cdnState("live", "kr", "fastly").status != Degraded {
		t.Fatal("fastly not degraded by its errors")
	}
	blindAt := stop.Add(e.cfg.Policies[0].Params.SignalMaxAge)
	// Blind, degraded: weight 0 until ProbationAfter has passed.
	for at.Before(blindAt.Add(ProbationAfter - 2*time.Second)) {
		at = run(e, at, 1, feed)
		if w := e.Table().Get(0, 1).W[3]; w != 0 {
			t.Fatalf("at %v fastly has weight %v before probation", at.Sub(stop), w)
		}
	}
	at = run(e, at, 5, feed)
	ws := e.Table().Get(0, 1)
	share := ws.W[3] / ws.Total()
	if share < 0.049 || share > 0.051 {
		t.Errorf("fastly's share on probation = %.4f, want %.2f", share, ProbationShare)
	}
	if !slices.Equal(ws.Probation, []string{"fastly"}) {
		t.Errorf("published probation %v", ws.Probation)
	}
	ps := j.kinds(DecisionProbation)
	if len(ps) != 2 || ps[0].Time.Sub(blindAt) > ProbationAfter+time.Second {
		t.Fatalf("probation decisions %+v, want one per region by %v after blindness", ps, ProbationAfter)
	}
	// In the default region fastly's baseline share is 25 %, so 5 %.
	if ws := e.Table().Get(0, 0); ws.W[3]/ws.Total() > 0.051 {
		t.Errorf("default region: fastly at %.3f on probation", ws.W[3]/ws.Total())
	}
	// Its signals return bad: probation ends, it is out again.
	at = run(e, at, 2, func(cdn string, at time.Time) Signal {
		if cdn == "fastly" {
			return bad(cdn, at)
		}
		return good(cdn, at)
	})
	if w := e.Table().Get(0, 1).W[3]; w != 0 {
		t.Errorf("fastly weight %v with bad signals back, want 0", w)
	}
	if len(j.kinds(DecisionProbationEnd)) != 2 {
		t.Errorf("probation_end decisions %v", j.kinds(DecisionProbationEnd))
	}
	// And good ones bring it back the usual way.
	run(e, at, 60, allGood)
	if st := e.cdnState("live", "kr", "fastly").status; st == Degraded {
		t.Errorf("fastly still %s after a minute of good signals", st)
	}
}

// A region whose other CDNs are all out gives no probation share: the
// CDN on probation would take it whole.
func TestProbationNeedsOthers(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	live := []float64{0, 0, 0, 0}
	base := []float64{30, 40, 10, 20}
	b := e.blindState("live", "kr", "fastly")
	b.seen, b.since = true, t0
	e.cdnState("live", "kr", "fastly").status = Degraded
	e.indexed()
	e.probation(0, e.cfg.RegionIndex("kr"), live, base, t0.Add(time.Hour))
	if live[3] != 0 {
		t.Errorf("probation weight %v with no other CDN", live[3])
	}
}

// A throughput counter that stopped reads 0, fresh: while the engine's
// answers send viewers to the CDN it is a stall, dropped as missing.
func TestStalledThroughputIsMissingNotZero(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	gbps := func(v float64) func(string, time.Time) Signal {
		return func(cdn string, at time.Time) Signal {
			s := good(cdn, at)
			if cdn == "akamai" {
				s.Values[Throughput] = F(v)
			}
			return s
		}
	}
	at := run(e, t0, 10, gbps(380)) // 95 % of a 400 Gbit/s commit
	held := e.cdnLoad("live", "akamai").factor
	if held >= 0.5 {
		t.Fatalf("akamai's factor %v at 95 %% of commit", held)
	}
	at = run(e, at, 30, gbps(0))
	if len(j.kinds(DecisionStalled)) != 1 {
		t.Fatalf("stalled decisions %v", j.kinds(DecisionStalled))
	}
	if r := e.store[storeKey{"akamai", ""}]; r[Throughput].v != 380 {
		t.Errorf("stored throughput %v, want the last real one", r[Throughput].v)
	}
	// Stale now: the factor holds (drifting down), never back to 1.
	if f := e.cdnLoad("live", "akamai").factor; f > held+1e-9 {
		t.Errorf("factor %v after the stall, want at most the held %v", f, held)
	}
	// A value repeated to the bit for stallUnchanged is a stall too.
	at = run(e, at, 5, gbps(200))
	if len(j.kinds(DecisionStalledEnd)) != 1 {
		t.Errorf("stalled_end decisions %v", j.kinds(DecisionStalledEnd))
	}
	run(e, at, 40, gbps(200))
	if len(j.kinds(DecisionStalled)) != 2 {
		t.Errorf("a value frozen for 40 s: stalled decisions %v", j.kinds(DecisionStalled))
	}
}

// A CDN that has never carried traffic may read 0: before an event.
func TestZeroThroughputBeforeTrafficIsNotAStall(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	run(e, t0, 10, func(cdn string, at time.Time) Signal {
		s := good(cdn, at)
		s.Values[Throughput] = F(0)
		return s
	})
	if n := len(j.kinds(DecisionStalled)); n != 0 {
		t.Errorf("%d stalls before any traffic", n)
	}
}

// Throughput that goes missing holds its last value, and the CDN's
// allowance is cut over static_drift toward blindAllowanceCut, rather
// than trusted whole or dropped at once.
func TestMissingThroughputCutsTheAllowanceOverStaticDrift(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	pol := &e.cfg.Policies[0]
	ak := e.cfg.CDNIndex("akamai")
	e.Push(Signal{CDN: "akamai", Time: t0, Samples: 1000, Source: SourcePush, Values: Values{Throughput: F(120)}})
	e.Evaluate(t0)
	drift := pol.Params.StaticDrift
	for _, c := range []struct {
		after time.Duration
		want  float64
	}{{0, 0}, {drift / 2, blindAllowanceCut / 2}, {drift, blindAllowanceCut}, {3 * drift, blindAllowanceCut}} {
		at := t0.Add(c.after)
		e.indexed().refresh(e)
		d := e.measureDemand(0, at)
		if !d.reports[ak] || d.total[ak] != 120 {
			t.Fatalf("%v after: akamai's throughput not held (reports %v, total %v)", c.after, d.reports[ak], d.total[ak])
		}
		if got := d.blind[ak]; got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%v after: allowance cut %v, want %v", c.after, got, c.want)
		}
	}
}

// A flat audience on a flat split may repeat a value: no stall unless the
// split moved and the value did not answer.
func TestSteadyThroughputOnASteadySplitIsNotAStall(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	run(e, t0, 90, func(cdn string, at time.Time) Signal {
		s := good(cdn, at)
		s.Values[Throughput] = F(100)
		return s
	})
	if n := len(j.kinds(DecisionStalled)); n != 0 {
		t.Errorf("%d stalls of a steady throughput", n)
	}
}
