package health

import (
	"fmt"
	"math"
	"time"
)

// A rate over a counter that stopped moving reads 0, and an exporter
// that lost its source repeats its last value: both arrive fresh. Taken
// at their word, a CDN carrying a third of an event would read idle and
// be handed more. While the engine's answers send viewers to a CDN, its
// delivered throughput is never exactly 0 after it has carried traffic,
// nor the same to the bit for stallUnchanged while the share the engine
// gives it moved; such a value is a stalled counter, dropped as missing,
// so the throughput goes stale (held.go) instead of reading 0. (A flat
// audience on a flat split can repeat a value, in a rehearsal at least:
// only a value that did not answer a move of the split is suspect.)

// stallUnchanged is how long a throughput value may repeat exactly before
// it counts as stalled: counted traffic moves from one second to the next.
const stallUnchanged = 30 * time.Second

// stallShareMove is how far (relative) the CDN's share of answers must
// have moved meanwhile for an unchanged value to be a stall. Viewers move
// in lumps (a resolver's cached answer at a time), so a small move may
// shift nobody: in a rehearsal, where traffic is counted without noise,
// a 5 % move left values the same to the bit.
const stallShareMove = 0.25

// Decision kinds of a stalled throughput counter.
const (
	DecisionStalled    = "stalled"
	DecisionStalledEnd = "stalled_end"
)

// stallState follows one CDN's throughput at one place.
type stallState struct {
	value      float64
	valueSince time.Time // when value was first delivered
	share      float64   // the CDN's share of answers then (assignedShare)
	traffic    bool      // it has delivered traffic: a 0 is then a stall
	stalled    bool
}

// unstall returns sig without its throughput value when that value is a
// stalled counter's.
func (e *Engine) unstall(sig Signal) Signal {
	v := sig.Values[Throughput]
	if v == nil {
		return sig
	}
	if e.sight.stalls == nil {
		e.sight.stalls = map[storeKey]*stallState{}
	}
	ss := entry(e.sight.stalls, storeKey{sig.CDN, sig.Region}, func() *stallState { return &stallState{} })
	if sig.Time.Before(ss.valueSince) {
		return sig // a late signal: the store ignores it anyway
	}
	var why string
	switch {
	case ss.stalled && (*v == 0 || *v == ss.value):
		// Still stalled: a stall ends when the counter moves, not when
		// the engine's own answers, having lost sight of the load,
		// happen to send nobody there for a moment.
		why = "still"
	case ss.traffic && e.assigned(sig.CDN, sig.Region):
		switch {
		case *v == 0:
			why = "reads 0 Gbit/s"
		case *v == ss.value && sig.Time.Sub(ss.valueSince) >= stallUnchanged && math.Abs(e.assignedShare(sig.CDN, sig.Region)-ss.share) >= stallShareMove*ss.share:
			why = fmt.Sprintf("has read %g Gbit/s exactly since %s", *v, ss.valueSince.UTC().Format(time.RFC3339))
		}
	}
	if *v != ss.value || ss.valueSince.IsZero() {
		ss.value, ss.valueSince, ss.share = *v, sig.Time, e.assignedShare(sig.CDN, sig.Region)
	}
	if *v > 0 {
		ss.traffic = true
	}
	if stalled := why != ""; stalled != ss.stalled {
		ss.stalled = stalled
		d := Decision{Time: sig.Time, Kind: DecisionStalledEnd, Region: sig.Region, CDN: sig.CDN, Reason: "throughput moves again"}
		if stalled {
			d.Kind = DecisionStalled
			d.Reason = fmt.Sprintf("throughput %s while answers send viewers there: a stalled counter, taken as missing", why)
		}
		e.journal.Record(d)
	}
	if why != "" {
		sig.Values[Throughput] = nil
	}
	return sig
}

// assigned reports whether the engine's answers send viewers to cdn in
// region ("": in any): a live weight above 0 there in some policy, or,
// before the first evaluation, a baseline weight.
func (e *Engine) assigned(cdn, region string) bool {
	as, i := e.answerShares(cdn, region)
	return i >= 0 && as.any[i]
}

// assignedShare is the CDN's share of new answers in region ("": summed
// over every region), summed over the policies: what moves when the
// engine moves it.
func (e *Engine) assignedShare(cdn, region string) float64 {
	as, i := e.answerShares(cdn, region)
	if i < 0 {
		return 0
	}
	return as.share[i]
}

// answeredShares is every CDN's assignedShare and assigned, by region
// ((ri+1)*nC+ci; ri = -1 for all regions), as of the last evaluation.
// Each pushed throughput asks for one: summed over a thousand policies
// per signal, 120 signals a second cost more than an evaluation's
// capacity step (issue 22), and the answers change only at an
// evaluation, so they are summed once after it.
type answeredShares struct {
	share []float64
	any   []bool
}

// answerShares returns the index's answered shares, computing them
// first when the last evaluation made them out of date, and the position
// of cdn in region there (-1: a CDN or region the config does not have).
func (e *Engine) answerShares(cdn, region string) (*answeredShares, int) {
	ix := e.indexed()
	if ix.answered == nil {
		nR, nC := len(e.cfg.Regions), len(e.cfg.CDNs)
		as := &answeredShares{share: make([]float64, (nR+1)*nC), any: make([]bool, (nR+1)*nC)}
		for pi := range e.cfg.Policies {
			for ri := range nR {
				w := e.answering(pi, ri)
				t := sum(w)
				for ci := range min(nC, len(w)) {
					if w[ci] > 0 {
						as.any[(ri+1)*nC+ci], as.any[ci] = true, true
					}
					if t > 0 {
						// All regions summed in the order assignedShare
						// always summed them, for equal float sums.
						as.share[(ri+1)*nC+ci] += w[ci] / t
						as.share[ci] += w[ci] / t
					}
				}
			}
		}
		ix.answered = as
	}
	ci, ri := e.cfg.CDNIndex(cdn), -1
	if region != "" {
		ri = e.cfg.RegionIndex(region)
	}
	if ci < 0 || (region != "" && ri < 0) {
		return ix.answered, -1
	}
	return ix.answered, (ri+1)*len(e.cfg.CDNs) + ci
}

// answering is the split policy pi answers with in region ri: the live
// one, or the baseline before the first evaluation.
func (e *Engine) answering(pi, ri int) []float64 {
	if rs := e.indexed().region(pi, ri); rs.live != nil {
		return rs.live
	}
	return e.cfg.Policies[pi].Baseline[ri]
}
