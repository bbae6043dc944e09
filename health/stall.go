package health

import (
	"fmt"
	"time"
)

// A rate over a counter that stopped moving reads 0, and an exporter
// that lost its source repeats its last value: both arrive fresh. Taken
// at their word, a CDN carrying a third of an event would read idle and
// be handed more. While the engine's answers send viewers to a CDN, its
// delivered throughput is never exactly 0 after it has carried traffic,
// nor the same to the bit for stallUnchanged; such a value is a stalled
// counter, dropped as missing, so the throughput goes stale (held.go)
// instead of reading 0.

// stallUnchanged is how long a throughput value may repeat exactly before
// it counts as stalled: counted traffic moves from one second to the next.
const stallUnchanged = 30 * time.Second

// Decision kinds of a stalled throughput counter.
const (
	DecisionStalled    = "stalled"
	DecisionStalledEnd = "stalled_end"
)

// stallState follows one CDN's throughput at one place.
type stallState struct {
	value      float64
	valueSince time.Time // when value was first delivered
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
		case *v == ss.value && sig.Time.Sub(ss.valueSince) >= stallUnchanged:
			why = fmt.Sprintf("has read %g Gbit/s exactly since %s", *v, ss.valueSince.UTC().Format(time.RFC3339))
		}
	}
	if *v != ss.value || ss.valueSince.IsZero() {
		ss.value, ss.valueSince = *v, sig.Time
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
		pol := &e.cfg.Policies[pi]
		for ri, r := range e.cfg.Regions {
			if region != "" && r != region {
				continue
			}
			w := pol.Baseline[ri]
			if rs := e.regions[regionKey{pol.Name, r}]; rs != nil && rs.live != nil {
				w = rs.live
			}
			if ci < len(w) && w[ci] > 0 {
				return true
			}
		}
	}
	return false
}
