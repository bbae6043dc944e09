package sim

import (
	"math"
	"math/rand/v2"
)

// ttfbCV is the spread of one request's time to first byte, as a share of
// the mean: 1. A CDN's per-request TTFB is skewed to the right: most
// segments come from the edge's cache close to the median, a few go to
// a shield or the origin and take several times as long, and such tails
// give a standard deviation about the size of the mean (an exponential
// tail has exactly that). The mean of n requests then has a standard
// error of TTFB/√n: 4 requests measure 90 ms give or take 45.
const ttfbCV = 1.0

// exactBelow is the expected count under which a binomial is drawn
// exactly; above it the normal law is within a fraction of a count, and a
// draw costs the same however many requests there are.
const exactBelow = 30

// binomial draws how many of n requests succeed when each does with
// probability p.
func binomial(rng *rand.Rand, n int64, p float64) int64 {
	switch {
	case n <= 0 || p <= 0:
		return 0
	case p >= 1:
		return n
	case p > 0.5:
		// The rarer outcome keeps the exact draw short.
		return n - binomial(rng, n, 1-p)
	}
	mean := float64(n) * p
	if mean >= exactBelow {
		x := math.Round(mean + math.Sqrt(mean*(1-p))*rng.NormFloat64())
		return int64(math.Max(0, math.Min(float64(n), x)))
	}
	// Inversion: walk up the distribution function from 0 successes
	// until it passes a uniform draw, about mean steps.
	u := rng.Float64()
	pr := math.Exp(float64(n) * math.Log1p(-p))
	cdf, odds := pr, p/(1-p)
	var x int64
	for u > cdf && x < n && pr > 0 {
		pr *= float64(n-x) / float64(x+1) * odds
		x++
		cdf += pr
	}
	return x
}

// sampleRate is the share of n requests found failing (or missing the
// cache) when each does with probability p.
func sampleRate(rng *rand.Rand, n float64, p float64) float64 {
	return float64(binomial(rng, int64(n), p)) / n
}

// sampleMean is the mean TTFB of n requests whose true mean is m. The
// mean of a few skewed requests is skewed too, so it is drawn from a
// log-normal law with the sample mean's expectation m and variance
// (ttfbCV·m)²/n: never negative, and normal as n grows.
func sampleMean(rng *rand.Rand, n float64, m float64) float64 {
	if m <= 0 {
		return 0
	}
	s2 := math.Log1p(ttfbCV * ttfbCV / n)
	return m * math.Exp(math.Sqrt(s2)*rng.NormFloat64()-s2/2)
}
