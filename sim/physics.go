package sim

import (
	"math"
	"time"
)

// physics computes what the viewers do to the CDNs at offset d: who is
// where, the traffic they ask for and get, the service they see, and who
// is impaired. It is the ground truth the telemetry then measures.
func (r *runner) physics(d time.Duration) {
	sc, st := r.sc, &r.st
	st.Audience = int64(math.Round(sc.Curve.At(d)))
	apportion(st.Audience, r.shares, st.RegionViewers)
	for ri, reg := range sc.Regions {
		splitUnits(st.RegionViewers[ri], r.pop.units[ri], st.Viewers[ri], r.rems)
		for ci := range sc.CDNs {
			st.DemandGbps[ri][ci] = float64(st.Viewers[ri][ci]) * reg.BitrateMbps / 1000
		}
	}
	for ci := range sc.CDNs {
		r.deliver(ci)
	}
	for ri := range sc.Regions {
		for ci := range sc.CDNs {
			r.service(ri, ci, d)
		}
	}
}

// deliver caps each region's traffic of CDN ci at its regional ceiling,
// then the total at the CDN's ceiling (scaling every region alike: a
// full CDN fails everyone a little, not one region entirely).
func (r *runner) deliver(ci int) {
	sc, st := r.sc, &r.st
	c := &sc.CDNs[ci]
	total := 0.0
	for ri := range sc.Regions {
		del := st.DemandGbps[ri][ci]
		if ceil := c.Regions[ri].CeilingGbps; ceil > 0 {
			del = min(del, ceil)
		}
		st.DeliveredGbps[ri][ci] = del
		total += del
	}
	if c.CeilingGbps > 0 && total > c.CeilingGbps {
		k := c.CeilingGbps / total
		for ri := range sc.Regions {
			st.DeliveredGbps[ri][ci] *= k
		}
	}
	for ri := range sc.Regions {
		st.Saturated[ri][ci] = st.DeliveredGbps[ri][ci] < st.DemandGbps[ri][ci]*(1-1e-9)
	}
}

// service is the TTFB, error rate and cache hit ratio of CDN ci in
// region ri: the load curve at its utilisation (of the regional commit
// when the region has one, else of the CDN's), worsened by faults, with
// undelivered traffic counted as failed requests.
func (r *runner) service(ri, ci int, d time.Duration) {
	sc, st := r.sc, &r.st
	c, cr := &sc.CDNs[ci], &sc.CDNs[ci].Regions[ri]
	u, ceilU := 0.0, 0.0
	switch {
	case cr.CommitGbps > 0:
		u, ceilU = st.DemandGbps[ri][ci]/cr.CommitGbps, cr.CeilingGbps/cr.CommitGbps
	case c.CommitGbps > 0:
		demand := 0.0
		for rj := range sc.Regions {
			demand += st.DemandGbps[rj][ci]
		}
		u, ceilU = demand/c.CommitGbps, c.CeilingGbps/c.CommitGbps
	}
	ttfb, errRate, hit := cr.Quality.At(u, ceilU)
	faulted := false
	for fi := range sc.Faults {
		if f := &sc.Faults[fi]; f.covers(ci, ri, int64(d)) {
			ttfb, errRate, hit = f.apply(ttfb, errRate, hit)
			faulted = true
		}
	}
	if st.Saturated[ri][ci] {
		errRate = max(errRate, 1-st.DeliveredGbps[ri][ci]/st.DemandGbps[ri][ci])
	}
	st.TTFBMs[ri][ci], st.ErrorRate[ri][ci], st.CacheHit[ri][ci] = ttfb, errRate, hit
	st.Faulted[ri][ci] = faulted
	st.Impaired[ri][ci] = 0
	if faulted || st.Saturated[ri][ci] {
		st.Impaired[ri][ci] = st.Viewers[ri][ci]
	}
}
