package sim

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Rehearsals of two engine fixes that landed with unit tests only (in
// zones/examples/rehearsals, on blind.toml's policy), each run with every
// player following DNS, with sticky players, and with rough telemetry.

// rehearseEach runs f with every player following DNS, with sticky
// players, and with every player following DNS on rough telemetry: TTFB,
// errors, cache hits and throughput 5 s late, sample noise, stamped at
// arrival.
func rehearseEach(t *testing.T, scenario string, f func(t *testing.T, sc *Scenario)) {
	blindEachPlayers(t, scenario, f)
	t.Run("rough telemetry", func(t *testing.T) {
		sc := blindRehearsal(t, scenario)
		sc.Telemetry.Delay, sc.Telemetry.ThroughputDelay = 5*time.Second, 5*time.Second
		sc.Telemetry.NoiseModel, sc.Telemetry.Stamp = NoiseSamples, StampArrival
		f(t, sc)
	})
}

// rehearseRun runs sc step by step, handing observe each step and the
// engine after it.
func rehearseRun(t *testing.T, sc *Scenario, observe func(*Step, *health.Engine)) *runner {
	t.Helper()
	r := newRunner(sc)
	n := int64((sc.Duration + sc.Step - 1) / sc.Step)
	for k := range n {
		if err := r.step(k); err != nil {
			t.Fatal(err)
		}
		observe(&r.st, r.eng)
	}
	return r
}

// share is cdn's part of region's new answers at a step.
func share(st *Step, region, cdn int) float64 {
	var sum float64
	for _, w := range st.Weights[region] {
		sum += w
	}
	if sum == 0 {
		return 0
	}
	return st.Weights[region][cdn] / sum
}

// Fastly drained in Korea 6m-10m, the Korean telemetry stopped 9m-20m: the
// drain ends while kr is stale. Fastly's share of new answers there must
// be back at its pre-drain level within 10 s of the drain's end, and
// Akamai (whose Korean PoPs cannot carry Fastly's share on top of their
// own) below its Korean ceiling from a minute after it. Before b788112
// fail-static held the split with the drain in it, drifting to the
// baseline over static_drift: Fastly back to 90 % of its 15.7 % at 16m21s,
// Akamai over its Korean ceiling until 13m55s (353,477 viewer-minutes;
// 17,863 after, the resolvers' TTL).
func TestTargetDrainEndedWhileStaleGivesTheShareBack(t *testing.T) {
	const drainAt, drainEnd, gapEnd = 6 * time.Minute, 10 * time.Minute, 20 * time.Minute
	rehearseEach(t, "drain-stale-scenario.toml", func(t *testing.T, sc *Scenario) {
		cfg := sc.Policy.Config
		kr, akamai, fastly := cfg.RegionIndex("kr"), cfg.CDNIndex("akamai"), cfg.CDNIndex("fastly")
		var before float64
		var back, lastOver time.Duration = -1, -1
		var akamaiOver float64 // viewer-minutes on Akamai in kr over its ceiling after the drain
		res := mustRun(t, sc, func(st *Step) {
			el := st.Elapsed
			s := share(st, kr, fastly)
			switch {
			case el < drainAt:
				before = s
			case el >= drainEnd && el < gapEnd && back < 0 && s >= 0.9*before:
				back = el
			}
			if el >= drainEnd && st.Saturated[kr][akamai] {
				lastOver = el
				akamaiOver += float64(st.Impaired[kr][akamai]) * sc.Step.Minutes()
			}
		})
		stale, staleEnd := time.Duration(-1), time.Duration(-1)
		for _, d := range res.Decisions {
			if d.Region != "kr" {
				continue
			}
			if d.Kind == health.DecisionStale && stale < 0 {
				stale = d.Time.Sub(sc.Start)
			}
			if d.Kind == health.DecisionStaleEnd && staleEnd < 0 {
				staleEnd = d.Time.Sub(sc.Start)
			}
		}
		t.Logf("kr stale %v-%v; fastly's kr share %.3f before the drain, back to 90 %% of it at %v (drain ended %v); akamai over its kr ceiling until %v after the drain, %.0f viewer-minutes; %.0f viewer-minutes impaired in all",
			stale, staleEnd, before, back, drainEnd, lastOver, akamaiOver, res.Summary.ViewerMinutesImpaired)
		if stale < 0 || stale > drainEnd || staleEnd >= 0 && staleEnd < drainEnd+time.Minute {
			t.Fatalf("kr stale %v-%v: the rehearsal needs the drain to end (%v) inside the gap", stale, staleEnd, drainEnd)
		}
		if before < 0.1 {
			t.Fatalf("fastly's kr share before the drain is %.3f: too small to tell", before)
		}
		if back < 0 || back > drainEnd+10*time.Second {
			t.Errorf("fastly back to 90 %% of its pre-drain kr share at %v, want by %v (10 s after the drain ended in a stale region)", back, drainEnd+10*time.Second)
		}
		if lastOver > drainEnd+time.Minute {
			t.Errorf("akamai over its kr ceiling until %v (%.0f viewer-minutes), want not after %v", lastOver, akamaiOver, drainEnd+time.Minute)
		}
	})
}
