package health

import (
	"fmt"
	"time"
)

// A CDN is blind in a region when nothing fresh says how it serves there:
// no health signal of its own in the region nor for all regions within
// signal_max_age. Its split then holds as last measured (sustained()
// keeps the last scores), which is right for a minute and wrong for a
// match: a degraded CDN whose feed stopped would be held out to the end.
// So blindness is a state of its own, per policy, region and CDN, logged
// when it starts and ends, exported as cdnsteer_cdn_blind and explained;
// and a degraded CDN blind for ProbationAfter is re-admitted at a small
// share (probation.go).

// Decision kinds of blindness and probation.
const (
	DecisionBlind        = "blind"     // a CDN has no fresh health signal in a region
	DecisionBlindEnd     = "blind_end" // it has again
	DecisionProbation    = "probation" // a degraded, blind CDN re-admitted at a small share
	DecisionProbationEnd = "probation_end"
)

// sight is what the engine knows of its own blindness: per policy,
// region and CDN whether it can see, and per CDN and place whether the
// throughput counter stalled (stall.go). What it saw last of a load is
// the capacity step's (capacityMemory.held).
type sight struct {
	cdns   map[stateKey]*blindState
	stalls map[storeKey]*stallState
}

// blindState is one CDN's sight in one policy and region.
type blindState struct {
	// seen: it has had a fresh health signal here; a CDN never measured
	// is not blind, merely new.
	seen bool
	// since is when it went blind, zero while it sees; last when its
	// newest health signal was measured.
	since, last time.Time
	// probation: degraded and blind long enough to be re-admitted at
	// ProbationShare (probation.go).
	probation bool
}

func (e *Engine) blindState(policy, region, cdn string) *blindState {
	if e.sight.cdns == nil {
		e.sight.cdns = map[stateKey]*blindState{}
	}
	return entry(e.sight.cdns, stateKey{policy, region, cdn}, func() *blindState { return &blindState{} })
}

// healthEvidence reports whether r holds a fresh value saying how a CDN
// serves, and the newest one's time: load (throughput) tells how busy it
// is, not how well it serves, so it does not count.
func healthEvidence(r Readings) bool {
	for k, v := range r.Values {
		if v != nil && !Kind(k).Info().PerCommit {
			return true
		}
	}
	return false
}

// updateSight notes whether the CDN can be seen in the region after its
// readings were taken, logging when blindness starts and ends.
func (e *Engine) updateSight(pi, ri, ci int, st *cdnState, now time.Time) {
	pol, region, cdn := &e.cfg.Policies[pi], e.cfg.Regions[ri], e.cfg.CDNs[ci].Name
	b := e.ix.blind(pi, ri, ci)
	if healthEvidence(st.readings) {
		b.seen, b.last = true, st.readings.Newest
		if !b.since.IsZero() {
			e.journal.Record(Decision{Time: now, Kind: DecisionBlindEnd, Policy: pol.Name, Region: region, CDN: cdn,
				Reason: fmt.Sprintf("fresh signals again after %s blind", now.Sub(b.since).Round(time.Second))})
			b.since = time.Time{}
		}
		return
	}
	if !b.seen || !b.since.IsZero() {
		return
	}
	b.since = now
	reason := fmt.Sprintf("no health signal younger than signal_max_age (%s) for %s in %s", pol.Params.SignalMaxAge, cdn, region)
	if !b.last.IsZero() {
		reason += fmt.Sprintf(", the last measured at %s", b.last.UTC().Format(time.RFC3339))
	}
	reason += ": its share holds as last measured"
	if st.status == Degraded {
		reason += fmt.Sprintf("; degraded, it is re-admitted at %.0f%% on probation after %s blind", 100*ProbationShare, ProbationAfter)
	}
	e.journal.Record(Decision{Time: now, Kind: DecisionBlind, Policy: pol.Name, Region: region, CDN: cdn, From: string(st.status), Reason: reason})
}

// blind reports whether the CDN is blind in the policy's region, and since
// when.
func (e *Engine) blind(policy, region, cdn string) (bool, time.Time) {
	b := e.sight.cdns[stateKey{policy, region, cdn}]
	if b == nil || b.since.IsZero() {
		return false, time.Time{}
	}
	return true, b.since
}

// sightNotes names the CDNs of policy pi's region ri that are blind and
// those on probation, for explain (through the published weights) and
// the weights log.
func (e *Engine) sightNotes(pi, ri int) (blind, probation []string) {
	for ci, cdn := range e.cfg.CDNs {
		b := e.ix.blind(pi, ri, ci)
		if !b.since.IsZero() {
			blind = append(blind, cdn.Name)
		}
		if b.probation {
			probation = append(probation, cdn.Name)
		}
	}
	return blind, probation
}
