package health

import "math"

// Score computes a CDN's instantaneous score, 0..100, from its fresh
// readings: each signal normalised between its good and bad bounds, then
// a weighted mean over the signals present. ok is false when nothing is
// fresh; the caller then keeps the last score.
//
// Throughput counts as headroom (utilisation of the commit) when the CDN
// has a commit and a delivered-throughput reading, otherwise as the
// probe's download rate.
func Score(r Readings, p Params, commitGbps float64) (score float64, ok bool) {
	var sum, weights float64
	add := func(v *float64, b Bounds) {
		if v == nil || b.Weight == 0 {
			return
		}
		// A bound at infinity normalises to NaN, which would stay in the
		// smoothed score for good: such a reading counts as missing.
		n := b.Normalise(*v)
		if math.IsNaN(n) {
			return
		}
		sum += b.Weight * n
		weights += b.Weight
	}
	add(r.TTFBMs, p.TTFB)
	add(r.ErrorRate, p.ErrorRate)
	add(r.CacheHitRatio, p.CacheHit)
	if r.ThroughputGbps != nil && commitGbps > 0 {
		u := *r.ThroughputGbps / commitGbps
		add(&u, p.Throughput)
	} else if r.DownloadMbps != nil {
		add(r.DownloadMbps, Bounds{Weight: p.Throughput.Weight, Good: p.Download.Good, Bad: p.Download.Bad})
	}
	if weights == 0 || math.IsInf(weights, 0) {
		return 0, false
	}
	// A CDN failing requests at or past the bad error rate is unusable
	// however fast and well cached its few successes are; without this
	// gate, good readings of other signals (kept fresh from before the
	// failure) would hold its score up for as long as they stay fresh.
	if r.ErrorRate != nil && p.ErrorRate.Weight > 0 && p.ErrorRate.Normalise(*r.ErrorRate) == 0 {
		return 0, true
	}
	return 100 * sum / weights, true
}

// CapacityFactor scales a CDN's weight by its load: 1 up to the soft
// limit, falling linearly to 0 at the hard limit, so that a CDN nearing
// its commit takes less new traffic and one at it takes none.
func CapacityFactor(utilisation float64, p Params) float64 {
	switch {
	case math.IsNaN(utilisation) || math.IsInf(p.CapacitySoft, 0) || math.IsInf(p.CapacityHard, 0) || math.IsNaN(p.CapacitySoft) || math.IsNaN(p.CapacityHard):
		// A load or limit that is not a number cannot vouch for any new
		// traffic; the engine fails open if every CDN ends up here.
		return 0
	case utilisation <= p.CapacitySoft:
		return 1
	case utilisation >= p.CapacityHard:
		return 0
	default:
		return (p.CapacityHard - utilisation) / (p.CapacityHard - p.CapacitySoft)
	}
}
