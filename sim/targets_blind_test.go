package sim

import (
	"fmt"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// The blindness targets of issue 15, each a rehearsal in
// zones/examples/rehearsals (blind.toml and blind-*-scenario.toml), run
// with every player following DNS and with sticky players.

// blindSticky is the sticky setting the targets are judged under too.
var blindSticky = Players{FollowDNS: 0.2, Session: 50 * time.Minute, ReloadErrorRate: 0.05, Reload: true}

func blindRehearsal(tb testing.TB, scenario string) *Scenario {
	tb.Helper()
	snap, err := zones.Load("../zones/examples/rehearsals/blind.toml")
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := LoadScenario("../zones/examples/rehearsals/"+scenario, snap)
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}

// blindEachPlayers runs f once with every player following DNS and once with
// sticky players.
func blindEachPlayers(t *testing.T, scenario string, f func(t *testing.T, sc *Scenario)) {
	for _, p := range []struct {
		name string
		p    *Players
	}{{"follow_dns=1", nil}, {"sticky", &blindSticky}} {
		t.Run(p.name, func(t *testing.T) {
			sc := blindRehearsal(t, scenario)
			if p.p != nil {
				sc.Players = *p.p
			}
			f(t, sc)
		})
	}
}

// blindRunViewing runs sc step by step, handing view the engine's state after
// each: what the engine believed, which the outputs do not show.
func blindRunViewing(t *testing.T, sc *Scenario, view func(elapsed time.Duration, v health.View)) *runner {
	t.Helper()
	r := newRunner(sc)
	n := int64((sc.Duration + sc.Step - 1) / sc.Step)
	for k := range n {
		if err := r.step(k); err != nil {
			t.Fatal(err)
		}
		view(r.st.Elapsed, r.eng.View(r.st.Time))
	}
	return r
}

// blindCDNView is the view of cdn in region.
func blindCDNView(v health.View, region, cdn string) health.CDNView {
	for _, rv := range v.Policies[0].Regions {
		if rv.Name != region {
			continue
		}
		for _, cv := range rv.CDNs {
			if cv.Name == cdn {
				return cv
			}
		}
	}
	panic(fmt.Sprintf("no %s in %s", cdn, region))
}

// blindFirstDecision is the elapsed time of the first decision of kind about
// cdn at or after from, or -1.
func blindFirstDecision(sc *Scenario, ds []health.Decision, kind, cdn, to string, from time.Duration) time.Duration {
	for _, d := range ds {
		el := d.Time.Sub(sc.Start)
		if d.Kind == kind && d.CDN == cdn && el >= from && (to == "" || d.To == to) {
			return el
		}
	}
	return -1
}

// Fastly's feed stops (9m-13m) during its error burst (10m-15m): blind in
// both regions while stopped, and degraded within seconds of its return.
// Before: nothing said the engine could not see Fastly.
func TestTargetOneFeedStoppingIsBlindness(t *testing.T) {
	blindEachPlayers(t, "blind-stop-scenario.toml", func(t *testing.T, sc *Scenario) {
		var blindFrom, blindTo time.Duration = -1, -1
		r := blindRunViewing(t, sc, func(el time.Duration, v health.View) {
			b := blindCDNView(v, "kr", "fastly").Blind
			if b && blindFrom < 0 {
				blindFrom = el
			}
			if !b && blindFrom >= 0 && blindTo < 0 {
				blindTo = el
			}
			if blindCDNView(v, "default", "fastly").Blind != b {
				t.Fatalf("at %v fastly blind in kr %v, not in default", el, b)
			}
			for _, rv := range v.Policies[0].Regions {
				if rv.Stale {
					t.Fatalf("at %v region %s stale over one CDN's feed", el, rv.Name)
				}
			}
		})
		ds := r.rec.ds
		degraded := blindFirstDecision(sc, ds, health.DecisionState, "fastly", "degraded", 13*time.Minute)
		t.Logf("fastly blind %v-%v, degraded %v (telemetry back at 13m)", blindFrom, blindTo, degraded)
		if blindFrom < 9*time.Minute || blindFrom > 9*time.Minute+20*time.Second {
			t.Errorf("blind from %v, want within signal_max_age of 9m", blindFrom)
		}
		if blindTo < 13*time.Minute || blindTo > 13*time.Minute+10*time.Second {
			t.Errorf("blind until %v, want until the feed returns at 13m", blindTo)
		}
		if n := blindCount(ds, health.DecisionBlind, "fastly"); n != 2 {
			t.Errorf("%d blind decisions, want one per region", n)
		}
		if degraded < 0 || degraded > 13*time.Minute+30*time.Second {
			t.Errorf("degraded at %v, want within 30 s of the telemetry's return at 13m", degraded)
		}
	})
}

// A degraded Fastly whose feed stopped for good (19m, a minute before its
// 15-minute incident ends at 20m) is re-admitted on probation within 5
// minutes of the incident's end, at 5 % of each region. Before: never
// (weight 0 to the end, 20 minutes).
func TestTargetDegradedBlindCDNIsReadmitted(t *testing.T) {
	blindEachPlayers(t, "blind-probation-scenario.toml", func(t *testing.T, sc *Scenario) {
		var readmitted time.Duration = -1
		var share float64
		blindRunViewing(t, sc, func(el time.Duration, v health.View) {
			cv := blindCDNView(v, "kr", "fastly")
			if readmitted < 0 && el > 20*time.Minute && cv.Share > 0 {
				readmitted, share = el, cv.Share
				if !cv.Probation || !cv.Blind || cv.Status != health.Degraded {
					t.Errorf("re-admitted at %v as %+v, want degraded, blind, on probation", el, cv)
				}
			}
		})
		t.Logf("re-admitted %v at a share of %.3f (incident ended at 20m)", readmitted, share)
		if readmitted < 0 || readmitted > 25*time.Minute {
			t.Errorf("re-admitted at %v, want by 25m", readmitted)
		}
		if share > health.ProbationShare+0.001 {
			t.Errorf("share on probation %.3f, want at most %.2f", share, health.ProbationShare)
		}
	})
}

// Fastly's throughput counter stalls (10m-20m) and reads 0, fresh: the
// engine takes it as missing, never as 0 Gbit/s, and holds Fastly's
// last throughput in the demand, per region and in all. Before: 0 Gbit/s fresh for the whole 10 minutes,
// Fastly handed its full share back, over its commit and degraded on the
// load.
func TestTargetStalledCounterIsNotZero(t *testing.T) {
	blindEachPlayers(t, "blind-zero-scenario.toml", func(t *testing.T, sc *Scenario) {
		zeroSeconds := 0
		r := blindRunViewing(t, sc, func(el time.Duration, v health.View) {
			cv := blindCDNView(v, "kr", "fastly")
			if cv.Signals.Values[health.Throughput] != nil && *cv.Signals.Values[health.Throughput] == 0 {
				zeroSeconds++
			}
			if cv.Utilisation != nil && *cv.Utilisation == 0 {
				zeroSeconds++
			}
		})
		if zeroSeconds != 0 {
			t.Errorf("fastly read 0 Gbit/s fresh for %d evaluations", zeroSeconds)
		}
		// The counter stalls in every place it is read (all regions and
		// each region): one stall per place, within the fault.
		places := map[string]int{}
		for _, d := range r.rec.ds {
			if d.Kind != health.DecisionStalled || d.CDN != "fastly" {
				continue
			}
			places[d.Region]++
			if el := d.Time.Sub(sc.Start); el < 10*time.Minute || el > 20*time.Minute {
				t.Errorf("stalled at %v in %q, want only within the fault (10m-20m)", el, d.Region)
			}
		}
		for _, place := range []string{"", "kr", "default"} {
			if places[place] != 1 {
				t.Errorf("%d stalled decisions in %q, want 1 per place", places[place], place)
			}
		}
		s := r.acc.summary(r.rec.ds, r.pop.viewerSwitches())
		for _, c := range s.CDNs {
			t.Logf("%s: peak %.1f %% of commit, %.2f min over", c.CDN, 100*c.PeakUtilisation, c.MinutesOverCommit)
			if c.MinutesOverCommit > 1 {
				t.Errorf("%s over its commit for %.2f min, want at most 1", c.CDN, c.MinutesOverCommit)
			}
		}
		t.Logf("%d degradations, %.1f switches per viewer-hour", s.Degradations, s.SwitchesPerViewerHour)
		if s.Degradations > 2 {
			t.Errorf("%d degradations, want at most 2 (before: 18, load on a CDN read as idle)", s.Degradations)
		}
	})
}

func blindCount(ds []health.Decision, kind, cdn string) int {
	n := 0
	for _, d := range ds {
		if d.Kind == kind && d.CDN == cdn {
			n++
		}
	}
	return n
}
