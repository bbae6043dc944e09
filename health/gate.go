package health

import (
	"fmt"
	"math"
	"strings"
)

// A blended score is a compensating mean: fast first bytes and good cache
// hits hold a CDN failing 3 % of its requests well above any down
// threshold, and only a value at the bad bound scores a kind 0. Gates put
// each health signal's own limit before the blend: a CDN whose error rate
// (or TTFB, or any kind with a gate) is past its gate with confidence is
// degraded whatever the other kinds say. The score then only shapes the
// weights among the CDNs that pass every gate.

// GateStat is what a kind's values are, which decides how sure a value
// with a given sample count is.
type GateStat int

const (
	// GateRate is a share of requests (errors, cache hits): its bounds
	// are Wilson score bounds on the count behind it.
	GateRate GateStat = iota + 1
	// GateMean is a mean over requests whose spread is about the mean
	// itself (TTFB: most segments from the edge, a few from the shield
	// or origin at several times the median), so its bounds are the
	// value ± z × value ÷ √n.
	GateMean
)

// GateRule is the gates column of the kinds table.
type GateRule struct {
	Stat GateStat `json:"-"`
	// OverGood makes the policy's gate a margin over the kind's good
	// bound (TTFB: "+300 ms") rather than a value of its own.
	OverGood bool `json:"over_good,omitempty"`
	// Default is the gate when the policy sets none; 0 is no gate.
	Default float64 `json:"default,omitempty"`
	// LoadShows: a CDN near its commit shows load in the kind (TTFB
	// rises, cache hits fall), which is no sign of ill health.
	LoadShows bool `json:"-"`
	// Veto makes a value at or past the bad bound score the CDN 0
	// outright (score.go): a CDN failing that many requests is unusable
	// however fast its few successes are.
	Veto bool `json:"-"`
	// Viewers: the kind's count is viewers (sessions), not requests. A
	// region with fewer than min_samples of its own then crosses the gate
	// only with min_samples viewers behind the CDN as a whole: five
	// players who are all the CDN's audience (the demo's one) cannot
	// drain it, however sure a Wilson bound on five is.
	Viewers bool `json:"-"`
}

// gateLevel is the value past which kind k's gate is crossed, and whether
// it has one.
func (p *Params) gateLevel(k Kind) (float64, bool) {
	rule := k.Info().Gate
	if rule == nil || p.Gate[k] == 0 {
		return 0, false
	}
	if rule.OverGood {
		return p.Score[k].Good + p.Gate[k], true
	}
	return p.Gate[k], true
}

// zScore is the one-sided normal quantile of confidence c: 1.645 at 0.95.
func zScore(c float64) float64 { return math.Sqrt2 * math.Erfinv(2*c-1) }

// bounds are the lower and upper confidence bounds of a value of kind k
// measured over n requests.
func bounds(stat GateStat, v, n, z float64) (lo, hi float64) {
	if !(n > 0) {
		return math.Inf(-1), math.Inf(1)
	}
	switch stat {
	case GateRate:
		p := math.Max(0, math.Min(1, v))
		d := 1 + z*z/n
		c := (p + z*z/(2*n)) / d
		m := z * math.Sqrt(p*(1-p)/n+z*z/(4*n*n)) / d
		return math.Max(0, c-m), math.Min(1, c+m)
	default:
		m := z * math.Abs(v) / math.Sqrt(n)
		return v - m, v + m
	}
}

// gateResult is what a CDN's gates say at one evaluation.
type gateResult struct {
	// crossed: some gate is passed with confidence (by the region alone,
	// or by the region and the CDN as a whole); clear: every estimate is
	// on the good side of its gate. Neither is the benefit of the doubt:
	// not enough to degrade, not enough to re-admit.
	crossed, clear bool
	reason         string
	// weight is how much of an evaluation's worth of evidence the clear
	// verdict carries, 0..1: the requests behind it (the region's own,
	// or the CDN's as a whole) over min_samples. A degraded CDN's few
	// stragglers making no error for a second are a sliver of evidence,
	// and a hold-down counted in such slivers takes proportionally
	// longer to serve (damping.go).
	weight float64
}

// gates judges a CDN's evidence against the policy's gates.
//
// loaded says the CDN is past capacity_soft of its commit: a value load
// worsens (a kind with LoadShows) is then the capacity factor's to
// handle, and crosses no gate, though it still keeps the gate from
// clearing.
func gates(ev *evidence, p *Params, loaded bool) gateResult {
	res := gateResult{clear: true, weight: 1}
	z := zScore(p.Confidence)
	var why []string
	gated := false
	for k := range NumKinds {
		level, ok := p.gateLevel(k)
		e := &ev.kinds[k]
		if !ok || !e.ok {
			continue
		}
		if w := math.Min(1, math.Max(e.own, e.parentN)/float64(max(p.MinSamples, 1))); !gated || w > res.weight {
			res.weight, gated = w, true
		}
		stat := k.Info().Gate.Stat
		lowerBetter := p.Score[k].Good < p.Score[k].Bad
		past := func(v, n float64) (bool, float64) {
			lo, hi := bounds(stat, v, n, z)
			if lowerBetter {
				return lo > level, lo
			}
			return hi < level, hi
		}
		worse := func(v float64) bool { return lowerBetter && v > level || !lowerBetter && v < level }
		// As a region cannot degrade on a handful of requests, it cannot
		// clear on them either: a degraded CDN's few stragglers making
		// no error for a second say little.
		if worse(e.v) || e.own < float64(p.MinSamples) && e.parentOK && worse(e.parentV) {
			res.clear = false
		}
		here, sure := past(e.v, e.n)
		if !here || loaded && k.Info().Gate.LoadShows {
			continue
		}
		if e.own < float64(p.MinSamples) {
			// Too few of the region's own requests to speak for it
			// alone: the CDN as a whole must show it too.
			if whole, _ := past(e.parentV, e.parentN); !e.parentOK || !whole {
				continue
			}
			if k.Info().Gate.Viewers && e.parentN < float64(p.MinSamples) {
				continue
			}
		}
		res.crossed = true
		why = append(why, fmt.Sprintf("%s %s (%s at %.0f%% confidence, %s requests) past its gate %s",
			k.Key(), formatKind(k, e.v), formatKind(k, sure), 100*p.Confidence, formatCount(e.n), formatKind(k, level)))
	}
	res.reason = strings.Join(why, ", ")
	return res
}

func formatKind(k Kind, v float64) string {
	if k.Info().Unit == "ratio" {
		return fmt.Sprintf("%.1f%%", 100*v)
	}
	return fmt.Sprintf("%.0f %s", v, k.Info().Unit)
}

func formatCount(n float64) string {
	if n >= 1e6 {
		return fmt.Sprintf("%.1fM", n/1e6)
	}
	if n >= 1e4 {
		return fmt.Sprintf("%.0fk", n/1e3)
	}
	return fmt.Sprintf("%.0f", n)
}

// verdict is what may change a CDN's status at one evaluation.
type verdict struct {
	gate gateResult
	// scoreCounts is false when the region has too few requests of its
	// own to be judged alone and the CDN as a whole scores at or above
	// the down threshold: a score low on a handful of requests moves
	// weight (through the score) but degrades nothing.
	scoreCounts bool
}

func judge(st *cdnState, ev *evidence, p Params, commitGbps float64, loaded bool) verdict {
	v := verdict{gate: gates(ev, &p, loaded), scoreCounts: true}
	if !ev.alone(&p) {
		if whole, ok := Score(ev.scoring(ev.parentReadings(st.readings), &p), p, commitGbps); ok && whole >= p.DownThreshold {
			v.scoreCounts = false
		}
	}
	return v
}
