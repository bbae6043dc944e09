package health

import (
	"math"
	"time"
)

// flapWindow is how recent an earlier degradation must be for a new one
// to count as a relapse. maxRelapses bounds what is remembered; the cap
// on the hold-down is reached long before.
const (
	flapWindow  = time.Hour
	maxRelapses = 16
)

// A CDN that flaps (fails for 20 s, serves for 20 s) would otherwise be
// re-admitted after every good spell and fail again on the traffic it
// was given back. Re-admission takes up_after evaluations in a row with
// every gate clear and the score at or above up_threshold; after a
// relapse — a degradation within an hour of the one before — it takes
// hold_down of them instead, doubled with each further relapse, up to
// hold_down_max: a CDN whose good spells are shorter than that stays out
// until it holds.

// degraded records a degradation at now, forgetting those past the flap
// window.
func (s *cdnState) degraded(now time.Time) {
	keep := s.degradations[:0]
	for _, t := range s.degradations {
		if now.Sub(t) < flapWindow {
			keep = append(keep, t)
		}
	}
	if len(keep) >= maxRelapses {
		keep = keep[len(keep)-maxRelapses+1:]
	}
	s.degradations = append(keep, now)
}

// holdDown is how many evaluations in a row a degraded CDN must look
// healthy before it is re-admitted.
func (s *cdnState) holdDown(p *Params) int {
	relapses := len(s.degradations) - 1
	if relapses < 1 || p.EvalInterval <= 0 {
		return p.UpAfter
	}
	d := p.HoldDown
	for i := 1; i < relapses && d < p.HoldDownMax; i++ {
		d *= 2
	}
	d = min(d, p.HoldDownMax)
	return max(p.UpAfter, int(math.Ceil(float64(d)/float64(p.EvalInterval))))
}

// deadBand is the factor a CDN's weight follows for the sustained score
// f (0..1): full within DeadBand points of full marks, and otherwise the
// last factor used until the score has moved DeadBand points from it,
// so that scores wobbling by a few points move no viewer.
func (s *cdnState) deadBand(f float64, p *Params) float64 {
	band := p.DeadBand / 100
	if f >= 1-band {
		f = 1
	}
	if !s.hasFactor || math.Abs(f-s.factor) >= band || f == 1 {
		s.factor, s.hasFactor = f, true
	}
	return s.factor
}
