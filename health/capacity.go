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

// capacityHistory is the capacity factor a policy gave one CDN at each
// evaluation, far enough back to cover the telemetry's age plus a TTL.
type capacityHistory struct {
	t []time.Time
	k []float64
}

// record notes the factor given at now and forgets what no estimate can
// need any more.
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
		h.t = append(h.t[:0], h.t[drop:]...)
		h.k = append(h.k[:0], h.k[drop:]...)
	}
}

// held is the mean factor over the answers resolvers hold at t: those
// given in the TTL before it, each factor weighted by how long it was in
// force. Before the history starts the factor was 1.
func (h *capacityHistory) held(t time.Time, ttl time.Duration) float64 {
	if ttl <= 0 {
		return h.at(t)
	}
	from := t.Add(-ttl)
	var sum float64
	cur, curFrom := 1.0, from
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

// at is the factor in force at t.
func (h *capacityHistory) at(t time.Time) float64 {
	k := 1.0
	for i, ti := range h.t {
		if ti.After(t) {
			break
		}
		k = h.k[i]
	}
	return k
}

// presentUtilisation brings a utilisation measured at measured forward to
// now by the change in the factor resolvers hold. A CDN that held no
// traffic then tells nothing about its share now: the measurement stands.
func (h *capacityHistory) presentUtilisation(u float64, measured, now time.Time, ttl time.Duration) float64 {
	then := h.held(measured, ttl)
	if then <= 0 {
		return u
	}
	return u * h.held(now, ttl) / then
}
