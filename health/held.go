package health

import (
	"math"
	"time"
)

// Without a fresh throughput a CDN's load is unknown, and a capacity
// factor of 1 would hand a CDN held back at its commit its full share the
// moment its feed stopped. So the last factor measured holds, and drifts
// over static_drift toward blindCapacityFactor (or stays lower): the
// longer the engine cannot see a CDN's load, the less it leans on it.

// blindCapacityFactor is where a CDN's capacity factor drifts while its
// throughput is unknown: half its weight, what capacity_soft..hard gives
// halfway to the commit's ceiling.
const blindCapacityFactor = 0.5

// heldLoad is the last capacity factor measured for a CDN in a policy.
type heldLoad struct {
	factor float64
	at     time.Time
}

// noteLoad records a factor computed from a fresh throughput.
func (e *Engine) noteLoad(policy, cdn string, factor float64, now time.Time) {
	if e.sight.held == nil {
		e.sight.held = map[cdnKey]*heldLoad{}
	}
	e.sight.held[cdnKey{policy, cdn}] = &heldLoad{factor: factor, at: now}
}

// heldFactor is the capacity factor of a CDN whose throughput is not
// fresh: 1 for one never measured (nothing says it is loaded), else the
// last one drifting toward blindCapacityFactor.
func (e *Engine) heldFactor(pol *PolicyInfo, cdn string, now time.Time) float64 {
	h := e.sight.held[cdnKey{pol.Name, cdn}]
	if h == nil {
		return 1
	}
	target := math.Min(h.factor, blindCapacityFactor)
	k := math.Min(1, float64(now.Sub(h.at))/float64(pol.Params.StaticDrift))
	return h.factor + (target-h.factor)*max(k, 0)
}
