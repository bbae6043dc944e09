package health

import "math"

// Score computes a CDN's instantaneous score, 0..100, from its fresh
// readings: each kind's value normalised between its good and bad bounds,
// then a weighted mean over the kinds present. ok is false when nothing is
// fresh; the caller then keeps the last score.
//
// A per-commit kind (throughput) counts as utilisation of the commit, so
// only for a CDN with a commit; a kind standing in for another (the
// probe's download rate for throughput) counts with that one's weight
// while that one cannot.
func Score(r Readings, p Params, commitGbps float64) (score float64, ok bool) {
	var sum, weights float64
	for k := range NumKinds {
		v, ok := scoredValue(r, k, commitGbps)
		if !ok {
			continue
		}
		b := p.Score[k]
		b.Weight = p.Score[k.Info().StandsInFor].Weight
		if b.Weight == 0 {
			continue
		}
		// A bound at infinity normalises to NaN, which would stay in the
		// smoothed score for good: such a reading counts as missing.
		n := b.Normalise(v)
		if math.IsNaN(n) {
			continue
		}
		sum += b.Weight * n
		weights += b.Weight
	}
	if weights == 0 || math.IsInf(weights, 0) {
		return 0, false
	}
	// A CDN failing requests at or past the bad error rate is unusable
	// however fast and well cached its few successes are; without this
	// gate, good readings of other signals (kept fresh from before the
	// failure) would hold its score up for as long as they stay fresh.
	for k := range NumKinds {
		if v := r.Values[k]; k.Info().Gate != nil && k.Info().Gate.Veto && v != nil && p.Score[k].Weight > 0 && p.Score[k].Normalise(*v) == 0 {
			return 0, true
		}
	}
	return 100 * sum / weights, true
}

// scoredValue is the value of kind k that Score counts, if it counts one.
func scoredValue(r Readings, k Kind, commitGbps float64) (float64, bool) {
	v := r.Values[k]
	switch info := k.Info(); {
	case v == nil:
		return 0, false
	case info.PerCommit && !(commitGbps > 0):
		return 0, false
	case info.PerCommit:
		return *v / commitGbps, true
	case info.StandsInFor != k:
		if _, replaced := scoredValue(r, info.StandsInFor, commitGbps); replaced {
			return 0, false
		}
	}
	return *v, true
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
