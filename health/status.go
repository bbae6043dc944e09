package health

import "time"

// Status is a CDN's standing in one policy and region.
type Status string

// Statuses. Drained is shown for a CDN an operator took out; the engine's
// own view (healthy, degraded, recovering) continues underneath.
const (
	Healthy    Status = "healthy"
	Degraded   Status = "degraded"
	Recovering Status = "recovering"
	Drained    Status = "drained"
)

// cdnState is the engine's memory of one CDN in one policy and region.
type cdnState struct {
	score    float64
	hasScore bool
	// recent holds the last DownAfter instantaneous scores, oldest
	// overwritten first; the weight follows their best, so one bad sample
	// moves no traffic while a sustained fall does.
	recent []float64
	next   int
	status Status
	below  int // evaluations in a row below the down threshold
	// above counts evaluations in a row at or above the up threshold
	// with every gate clear, each weighted by the evidence behind it
	// (gate.go); gated counts those in a row with a gate crossed.
	above float64
	gated int
	// degradations are when the CDN was last degraded, within the flap
	// window: the hold-down before re-admission doubles with each
	// (damping.go).
	degradations []time.Time
	// factor is the score factor the weight follows through the dead
	// band (damping.go).
	factor    float64
	hasFactor bool
	// ramp is the share of its full weight a CDN may take: 0 when
	// degraded, climbing by RecoveryStep while recovering, 1 when healthy.
	ramp       float64
	lastChange time.Time
	readings   Readings
}

func newCDNState() *cdnState {
	return &cdnState{status: Healthy, ramp: 1}
}

// regionState is the engine's memory of one region of one policy.
type regionState struct {
	live     []float64
	lastGood []float64 // the split last computed from fresh telemetry
	// goodDrained marks, per CDN, a lastGood that is its share from
	// before an operator's drain (heldsplit.go).
	goodDrained []bool
	staleSince  time.Time
	// born is the region's first evaluation: a region with no signal for
	// signal_max_age since is stale too (stale.go).
	born       time.Time
	failedOpen bool
	logged     []float64 // the split last written to the decision log
	reason     string
}

// observe records an instantaneous score for the weight factor. Before the
// first, the history is the last known score, or full marks for a CDN never
// measured (nothing is down merely for not having been probed yet).
func (s *cdnState) observe(raw float64, window int) {
	if len(s.recent) != window {
		prior := 100.0
		if s.hasScore {
			prior = s.score
		}
		s.recent = make([]float64, window)
		for i := range s.recent {
			s.recent[i] = prior
		}
		s.next = 0
	}
	s.recent[s.next] = raw
	s.next = (s.next + 1) % window
}

// sustained is the best recent instantaneous score, 0..1: what the CDN
// has shown it can still do over the last DownAfter evaluations.
func (s *cdnState) sustained() float64 {
	if len(s.recent) == 0 {
		if s.hasScore {
			return s.score / 100
		}
		return 1
	}
	best := 0.0
	for _, v := range s.recent {
		best = max(best, v)
	}
	return best / 100
}
