package health

import (
	"math"
	"time"
)

// Every value comes with the number of requests behind it, and a region
// a few viewers watch from says little: two beacons, one failed, are a
// 50 % error rate. So a region's value is shrunk toward its parent — the
// same CDN in every other region, the all-regions signal included — in
// proportion to its samples: with n of its own and the others' pooled
// value, the estimate is (n·own + k·others) ÷ (n + k), with k =
// min_samples (at min_samples a region counts half) or the others' whole
// count when that is smaller, so a CDN measured in one region only is
// taken at its own value. That is the mean of a Beta (or normal) prior
// worth k requests, and the estimate counts n + k requests for its
// confidence bounds.
//
// A signal that gives no count (a push without "samples", a Prometheus
// source without a samples query) counts as min_samples: just enough to
// stand alone. A probe is one request.

// maxCount bounds a sample count: past it a value is as sure as it gets,
// and an absurd count pushed by mistake cannot drown every other region.
const maxCount = 1e9

// kindEvidence is what is known of one kind for one CDN in one region.
type kindEvidence struct {
	ok bool
	// v is the estimate (the region's own value shrunk toward its
	// parent, or the all-regions value when the region has none), n the
	// requests it counts for, own the region's own requests.
	v, n, own float64
	// parentV and parentN are the CDN's pooled value over every fresh
	// signal of the kind (all regions and the all-regions one).
	parentV, parentN float64
	parentOK         bool
}

// evidence is what is known of a CDN in a region, by kind.
type evidence struct {
	kinds [NumKinds]kindEvidence
}

// count is how many requests a stored sample stands for.
func count(n int, p *Params) float64 {
	if n <= 0 {
		return float64(max(p.MinSamples, 1))
	}
	return math.Min(float64(n), maxCount)
}

// evidence returns the readings the engine scores a CDN in a region on —
// what view gives, with each regional value shrunk toward its parent —
// and the evidence its gates judge.
//
// A degraded CDN is judged on the region's own values, unshrunk: once its
// viewers have left, the region's count falls to what probes and a few
// stragglers make, and shrunk toward a CDN healthy elsewhere it would be
// re-admitted while still failing there, and fail again on the traffic
// given back.
//
// own and all are the store's readings of the CDN in the region and in
// all regions (the engine's index holds them).
func (s store) evidence(cdn, region string, own, all *reading, now time.Time, p *Params, shrink bool, pm parentMemo) (Readings, *evidence) {
	r := view(own, all, region != "", now, p.SignalMaxAge)
	ev := &evidence{}
	fresh := func(rd *reading, k Kind) bool {
		return rd != nil && !rd[k].t.IsZero() && now.Sub(rd[k].t) <= p.SignalMaxAge
	}
	parent := pm.sums(s, cdn, now, p)
	for k := range NumKinds {
		if r.Values[k] == nil || k.Info().PerCommit {
			continue
		}
		// The parent: every fresh value of the kind for this CDN.
		sumN, sumNV := parent.n[k], parent.nv[k]
		e := &ev.kinds[k]
		e.ok = true
		if sumN > 0 {
			e.parentV, e.parentN, e.parentOK = sumNV/sumN, sumN, true
		}
		if region == "" || !fresh(own, k) {
			// The region has nothing of its own: the all-regions value
			// stands, with its own count, and cannot speak for the
			// region alone.
			e.v, e.n = *r.Values[k], 1
			if fresh(all, k) {
				e.n = count(all[k].samples, p)
			}
			continue
		}
		n, v := count(own[k].samples, p), own[k].v
		e.own = n
		prior, others := math.Min(float64(p.MinSamples), sumN-n), 0.0
		if !shrink {
			prior = 0
		}
		if prior > 0 {
			others = (sumNV - n*v) / (sumN - n)
		} else {
			prior = 0
		}
		e.v, e.n = (n*v+prior*others)/(n+prior), n+prior
		if math.IsNaN(e.v) || math.IsInf(e.v, 0) {
			e.v, e.n = v, n
		}
		shrunk := e.v
		r.Values[k] = &shrunk
	}
	return r, ev
}

// parentReadings are the CDN's pooled values, for scoring the CDN as a
// whole where a region has too few requests to be scored alone.
func (ev *evidence) parentReadings(r Readings) Readings {
	out := r
	for k := range NumKinds {
		if e := ev.kinds[k]; e.parentOK {
			v := e.parentV
			out.Values[k] = &v
		}
	}
	return out
}

// alone reports whether the region's own requests suffice for it to be
// judged by itself: every kind it is scored on counts min_samples of its
// own (a players' kind too few to be scored says nothing of the score).
func (ev *evidence) alone(p *Params) bool {
	for k := range NumKinds {
		if e := ev.kinds[k]; e.ok && e.own < float64(p.MinSamples) && ev.scored(k, p) {
			return false
		}
	}
	return true
}

// parentMemo keeps the CDNs' pooled counts and values (the parents) for
// one evaluation: they depend on the CDN and the policy's signal_max_age
// and min_samples, not on the region or the policy, and pooling them
// anew for every policy, region and CDN — a pass over the whole store
// each — made one evaluation of 1,000 policies take 2 s of CPU. The
// engine empties it whenever the store changes or time moves.
type parentMemo map[parentKey]*parentSums

type parentKey struct {
	cdn        string
	now        time.Time
	maxAge     time.Duration
	minSamples int
}

type parentSums struct{ n, nv [NumKinds]float64 }

// sums returns the CDN's parent sums by kind as of now, pooled on first
// use. A nil memo pools every time.
func (pm parentMemo) sums(s store, cdn string, now time.Time, p *Params) *parentSums {
	key := parentKey{cdn, now, p.SignalMaxAge, p.MinSamples}
	if ps := pm[key]; ps != nil {
		return ps
	}
	ps := &parentSums{}
	for sk, rd := range s {
		if sk.cdn != cdn {
			continue
		}
		for k := range NumKinds {
			if rd[k].t.IsZero() || now.Sub(rd[k].t) > p.SignalMaxAge {
				continue
			}
			n := count(rd[k].samples, p)
			ps.n[k] += n
			ps.nv[k] += n * rd[k].v
		}
	}
	if pm != nil {
		pm[key] = ps
	}
	return ps
}
