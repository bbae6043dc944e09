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
	ci := e.cfg.CDNIndex(cdn)
	if ci < 0 {
		return false
	}
	for pi := range e.cfg.Policies {
		for ri := range e.regionSpan(region) {
			if w := e.answering(pi, ri); ci < len(w) && w[ci] > 0 {
				return true
			}
		}
	}
	return false
}

// assignedShare is the CDN's share of new answers in region ("": summed
// over every region), summed over the policies: what moves when the
// engine moves it.
func (e *Engine) assignedShare(cdn, region string) float64 {
	ci := e.cfg.CDNIndex(cdn)
	total := 0.0
	for pi := range e.cfg.Policies {
		for ri := range e.regionSpan(region) {
			if w := e.answering(pi, ri); ci >= 0 && ci < len(w) {
				if t := sum(w); t > 0 {
					total += w[ci] / t
				}
			}
		}
	}
	return total
}

// regionSpan yields the index of region, or of every region for "" (none
// for a region the policy does not have).
func (e *Engine) regionSpan(region string) func(func(int) bool) {
	lo, hi := 0, len(e.cfg.Regions)
	if region != "" {
		lo = e.cfg.RegionIndex(region)
		hi = lo + 1
	}
	return func(yield func(int) bool) {
		for ri := max(lo, 0); ri < hi; ri++ {
			if !yield(ri) {
				return
			}
		}
	}
}

// answering is the split policy pi answers with in region ri: the live
// one, or the baseline before the first evaluation.
func (e *Engine) answering(pi, ri int) []float64 {
	if rs := e.indexed().region(pi, ri); rs.live != nil {
		return rs.live
	}
	return e.cfg.Policies[pi].Baseline[ri]
}
