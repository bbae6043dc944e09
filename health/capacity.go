package health

import "time"

// The capacity factor is a feedback loop with two delays: a weight change
// reaches a CDN's traffic only as resolvers' cached answers expire (over
// about a TTL), and the throughput that shows the effect arrives seconds
// later still. Reacting again and again to measurements taken before the
// last cuts took effect moves the same traffic several times over; with
// telemetry five seconds late the football rehearsal swung every CDN to
// its ceiling. So the measured utilisation is first brought forward to
// now: scaled by how much of the CDN's capacity factor resolvers hold now
// against what they held when it was measured.

// cdnLoad is one CDN's load as one policy judges it: its capacity factor
// and the utilisation behind it, computed once per evaluation for all the
// policy's regions (the throughput is the CDN's total), and the history
// of the factors given.
type cdnLoad struct {
	factor   float64  // 1: no limit
	utilised *float64 // the throughput signal ÷ the commit, as measured
	utilNow  *float64 // the same brought forward to now
	history  capacityHistory
}

func newCDNLoad() *cdnLoad { return &cdnLoad{factor: 1, history: capacityHistory{initial: 1}} }

// updateLoads computes the capacity factor of every CDN of pol as of now.
func (e *Engine) updateLoads(pol *PolicyInfo, now time.Time) {
	p := pol.Params
	for _, cdn := range e.cfg.CDNs {
		ld := e.cdnLoad(pol.Name, cdn.Name)
		ld.factor, ld.utilised, ld.utilNow = 1, nil, nil
		if cdn.CommitGbps > 0 {
			if gbps, measured, ok := e.store.totalGbps(cdn.Name, now, p.SignalMaxAge); ok {
				u := gbps / cdn.CommitGbps
				uNow := ld.history.presentUtilisation(u, measured, now, pol.TTL)
				ld.factor, ld.utilised, ld.utilNow = CapacityFactor(uNow, p), &u, &uNow
				e.noteLoad(pol.Name, cdn.Name, ld.factor, now)
			} else {
				ld.factor = e.heldFactor(pol, cdn.Name, now)
			}
		}
		ld.history.record(now, ld.factor, p.SignalMaxAge+pol.TTL)
	}
}

// capacityHistory is the capacity factor a policy gave one CDN at each
// evaluation, far enough back to cover the telemetry's age plus a TTL.
type capacityHistory struct {
	t []time.Time
	k []float64
	// initial is the factor in force before the first entry kept: 1 for
	// a CDN never limited.
	initial float64
}

// record notes the factor given at now, replacing one given at the same
// time, and forgets what no estimate can need any more.
func (h *capacityHistory) record(now time.Time, k float64, keep time.Duration) {
	if n := len(h.t); n > 0 && !now.After(h.t[n-1]) {
		h.k[n-1] = k
		return
	}
	h.t = append(h.t, now)
	h.k = append(h.k, k)
	drop := 0
	for drop+1 < len(h.t) && now.Sub(h.t[drop+1]) > keep {
		drop++
	}
	if drop > 0 {
		h.initial = h.k[drop-1]
		h.t = append(h.t[:0], h.t[drop:]...)
		h.k = append(h.k[:0], h.k[drop:]...)
	}
}

// held is the mean factor over the answers resolvers hold at t: those
// given in the TTL before it, each factor weighted by how long it was in
// force; a factor given at t itself is not yet held.
func (h *capacityHistory) held(t time.Time, ttl time.Duration) float64 {
	if ttl <= 0 {
		return h.givenBefore(t)
	}
	from := t.Add(-ttl)
	var sum float64
	cur, curFrom := h.initial, from
	for i, ti := range h.t {
		if !ti.After(from) {
			cur = h.k[i]
			continue
		}
		if !ti.Before(t) {
			break
		}
		sum += cur * ti.Sub(curFrom).Seconds()
		cur, curFrom = h.k[i], ti
	}
	sum += cur * t.Sub(curFrom).Seconds()
	return sum / ttl.Seconds()
}

// givenBefore is the last factor given before t.
func (h *capacityHistory) givenBefore(t time.Time) float64 {
	k := h.initial
	for i, ti := range h.t {
		if !ti.Before(t) {
			break
		}
		k = h.k[i]
	}
	return k
}

// minHeldThen bounds how far a measurement is extrapolated: a CDN that
// held under a tenth of its factor when measured carried load from a few
// stragglers (resolvers stretching TTLs, long sessions), not in
// proportion to its factor, so scaling it up would amplify noise.
const minHeldThen = 0.1

// presentUtilisation brings a utilisation measured at measured forward to
// now by the change in the factor resolvers hold. A measurement stamped
// after now (a clock ahead of ours) counts as taken now.
func (h *capacityHistory) presentUtilisation(u float64, measured, now time.Time, ttl time.Duration) float64 {
	if measured.After(now) {
		measured = now
	}
	then := h.held(measured, ttl)
	if then < minHeldThen {
		return u
	}
	return u * h.held(now, ttl) / then
}
