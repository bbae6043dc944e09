package health

import (
	"math"
	"slices"
)

// What fail-static holds (failStatic). The split the capacity step gives
// already has the drains in force: a drained CDN has 0 there and the
// others carry its share. Held as it stands, a drain that ended while the
// region was stale would outlive its end, the CDN coming back only as
// the held split drifted to the baseline over static_drift. Overrides are
// operators' decisions, applied after fail-static at every evaluation,
// stale or not; what fail-static holds must be health's split. So a
// drained CDN's held share stays the one it had before the drain (its
// baseline's when none was held), marked, and a drain ending while stale
// gives it back at once. Pins and freezes never enter the capacity step:
// the held split does not show them.

// holdGood keeps the split given at an evaluation with fresh telemetry
// (live) as the one to hold should the telemetry go stale, except for
// the CDNs drained here: each keeps the share held from before its drain.
func (e *Engine) holdGood(rs *regionState, policy, region string, live, base []float64) {
	n := len(live)
	if len(e.overrides) == 0 {
		rs.lastGood = append(rs.lastGood[:0], live...)
		rs.goodDrained = nil
		return
	}
	if len(rs.lastGood) != n {
		// The first split held (or the first since a CDN list changed):
		// a CDN drained from the start is held at its baseline.
		rs.lastGood = append(rs.lastGood[:0], base...)
	}
	if len(rs.goodDrained) != n {
		rs.goodDrained = make([]bool, n)
	}
	for c, cdn := range e.cfg.CDNs {
		if e.isDrained(policy, region, cdn.Name) {
			rs.goodDrained[c] = true
			continue
		}
		rs.lastGood[c], rs.goodDrained[c] = live[c], false
	}
}

// heldSplit is the split fail-static holds in region ri of policy pi:
// the last split given with fresh telemetry, in which a CDN whose drain
// has ended since gets back its share from before the drain (no more
// than the health step gives it now, from the last statuses measured:
// none if it is degraded, its ramp's if recovering), the others giving
// it up in proportion. A CDN still drained holds 0, as it was given.
// want is the health step's split.
func (e *Engine) heldSplit(rs *regionState, pi, ri int, want []float64) []float64 {
	if !slices.Contains(rs.goodDrained, true) || len(rs.goodDrained) != len(rs.lastGood) {
		return rs.lastGood
	}
	pol, region := &e.cfg.Policies[pi], e.cfg.Regions[ri]
	base := pol.Baseline[ri]
	out := make([]float64, len(rs.lastGood))
	var total, back float64
	for c, cdn := range e.cfg.CDNs {
		switch {
		case !rs.goodDrained[c]:
			out[c] = rs.lastGood[c]
			total += out[c]
		case e.isDrained(pol.Name, region, cdn.Name):
			out[c] = 0
		default:
			out[c] = e.healthHeld(pi, ri, c, rs.lastGood[c], want, base)
			back += out[c]
		}
	}
	if back > 0 && total > 0 {
		k := math.Max(0, total-back) / total
		for c := range out {
			if !rs.goodDrained[c] {
				out[c] *= k
			}
		}
	}
	return out
}

// healthHeld is the weight to hold for CDN c back from a drain: held,
// its weight from before the drain, capped by what the health step gives
// it now; the health step's alone when held is 0 (it was out for its
// health before the drain, which the statuses since supersede).
func (e *Engine) healthHeld(pi, ri, c int, held float64, want, base []float64) float64 {
	hs := 0.0
	if t := sum(want); t > 0 {
		hs = want[c] / t * sum(base)
	}
	if st := e.ix.cdn(pi, ri, c); st.status == Recovering {
		hs = math.Min(hs, st.ramp*base[c])
	}
	if held == 0 || hs < held {
		return hs
	}
	return held
}
