package sim

import (
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// A replay answers "what would this policy have done at last week's
// match?": the real engine, compiled from a candidate policy, takes the
// signals a server recorded ([server] signal_log) at the moments they
// arrived, and evaluates on the candidate's interval in virtual time.
// It has no audience model: the signals are what the match's viewers
// measured under the split the server really gave, so a replay tells the
// decisions, statuses and splits the candidate would have made, not how
// many viewers they would have moved or how that would have changed the
// measurements themselves.

// ReplayInterval is how often a replay writes every CDN's state
// (states.csv); the decision log has every change in between.
const ReplayInterval = time.Minute

// ReplayResult is what a replay produced.
type ReplayResult struct {
	// Policy is the candidate's file; Files the signal logs, in the order
	// they were read.
	Policy string
	Files  []string
	// Start is the first evaluation (the first signal's arrival), End
	// the last (one interval after the last signal).
	Start, End  time.Time
	Signals     int
	Evaluations int
	// Torn counts lines that were not JSON (a crash or a full disk left
	// part of a line) and were skipped; FirstTorn is where the first was.
	Torn      int
	FirstTorn string
	Decisions []health.Decision
	// States hold every CDN's state in every policy and region, every
	// ReplayInterval.
	States []ReplayState
	// cfg names the indexes in States and shares.
	cfg    health.Config
	shares shareStats
}

// shareStats follow each CDN's share of its region's new answers over
// every evaluation, by policy, region and CDN.
type shareStats struct {
	sum, lowest []float64
	n           int
}

func (s *shareStats) add(t *health.Table, cfg *health.Config) {
	nR, nC := len(cfg.Regions), len(cfg.CDNs)
	if s.sum == nil {
		s.sum = make([]float64, len(cfg.Policies)*nR*nC)
		s.lowest = make([]float64, len(s.sum))
		for i := range s.lowest {
			s.lowest[i] = 1
		}
	}
	s.n++
	for pi, p := range cfg.Policies {
		for ri := range cfg.Regions {
			w := p.Baseline[ri]
			if live := t.Get(pi, ri); live != nil {
				w = live.W
			}
			total := 0.0
			for _, x := range w {
				total += x
			}
			for ci, x := range w {
				share := 0.0
				if total > 0 {
					share = x / total
				}
				i := (pi*nR+ri)*nC + ci
				s.sum[i] += share
				s.lowest[i] = min(s.lowest[i], share)
			}
		}
	}
}

// ReplayState is one CDN in one policy and region at one moment.
type ReplayState struct {
	Time                time.Time
	Policy, Region, CDN int
	Status              health.Status
	Score               *float64
	Weight, Share       float64
	FailedOpen, Stale   bool
	Signals             health.Readings
	Utilisation         *float64
	CapacityFactor      float64
}

// Replay drives the engine compiled from snap with the signals recorded
// in files (a signal log and its rotated files, oldest first). Records
// the candidate cannot take (CDNs or regions it does not know, kinds or
// values the engine refuses) are errors at their FILE:LINE, all of them
// reported at once.
func Replay(snap *zones.Snapshot, files []string) (*ReplayResult, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("replay: no signal log given")
	}
	cfg := snap.Health()
	rec := newRecorder()
	eng := health.NewEngine(cfg, rec)
	res := &ReplayResult{Policy: snap.File, Files: files, cfg: cfg}
	interval := cfg.EvalInterval()
	rr := newReplayReader(&cfg)

	var next, nextState time.Time
	evaluate := func(t time.Time) {
		res.shares.add(eng.Evaluate(t), &cfg)
		res.Evaluations++
		res.End = t
		if !t.Before(nextState) {
			res.States = appendStates(res.States, eng.View(t))
			for !nextState.After(t) {
				nextState = nextState.Add(ReplayInterval)
			}
		}
		next = t.Add(interval)
	}
	err := rr.read(files, func(r health.SignalRecord) {
		if len(rr.errs) > 0 {
			return // only reading on, to report every problem
		}
		if res.Signals == 0 {
			res.Start, next, nextState = r.Time, r.Time, r.Time
		}
		for !next.After(r.Time) {
			evaluate(next)
		}
		eng.Push(r.Signal())
		res.Signals++
	})
	if err != nil {
		return nil, err
	}
	if err := rr.err(); err != nil {
		return nil, err
	}
	if res.Signals == 0 {
		return nil, fmt.Errorf("replay: %v holds no signals", files)
	}
	// The last signals are scored too, as the server's next tick would,
	// and the state they leave is the last of States.
	nextState = next
	evaluate(next)
	res.Torn, res.FirstTorn = rr.Torn, rr.FirstTorn
	res.Decisions = rec.ds
	return res, nil
}

func appendStates(out []ReplayState, v health.View) []ReplayState {
	for pi, p := range v.Policies {
		for ri, r := range p.Regions {
			for ci, c := range r.CDNs {
				out = append(out, ReplayState{Time: v.Time, Policy: pi, Region: ri, CDN: ci, Status: c.Status, Score: c.Score,
					Weight: c.Weight, Share: c.Share, FailedOpen: r.FailedOpen, Stale: r.Stale, Signals: c.Signals,
					Utilisation: c.Utilisation, CapacityFactor: c.CapacityFactor})
			}
		}
	}
	return out
}
