package health

import (
	"fmt"
	"time"
)

// A degraded CDN comes back only on evidence (up_after good evaluations).
// When its feed has stopped there is none, and it would stay out for the
// rest of the event — in the football rehearsal 115 minutes after a
// 15-minute incident — while the others carry its viewers. So a degraded
// CDN blind for ProbationAfter is re-admitted on probation at a small
// share of its region's new answers: its viewers' players then show
// whether it serves (their beacons are what the feed carries), and its
// fresh signals decide from there, as for any degraded CDN.
const (
	// ProbationAfter is how long a degraded CDN must be blind before
	// probation: a CDN whose last signal was measured at t gets its
	// probation share by t + signal_max_age + ProbationAfter.
	ProbationAfter = 3 * time.Minute
	// ProbationShare is the share of the region's new answers a CDN on
	// probation gets, or its baseline share when that is smaller.
	ProbationShare = 0.05
	// maxProbation caps what all the CDNs of a region on probation take
	// together: the region is mostly served by CDNs that are seen.
	maxProbation = 0.25
)

// probation gives each degraded CDN of the region that has been blind for
// ProbationAfter its probation share of live, changing live in place, and
// returns the causes for the weights log. A region with nothing else left
// gives none: failing open decides there.
func (e *Engine) probation(pi, ri int, live, base []float64, now time.Time) []string {
	pol, region := &e.cfg.Policies[pi], e.cfg.Regions[ri]
	var causes []string
	on := make([]float64, len(live)) // the share each CDN on probation takes
	var onTotal, others, baseTotal float64
	for _, w := range base {
		baseTotal += w
	}
	for ci, cdn := range e.cfg.CDNs {
		b, st := e.ix.blind(pi, ri, ci), e.ix.cdn(pi, ri, ci)
		in := st.status == Degraded && !b.since.IsZero() && now.Sub(b.since) >= ProbationAfter
		if in != b.probation {
			b.probation = in
			d := Decision{Time: now, Kind: DecisionProbationEnd, Policy: pol.Name, Region: region, CDN: cdn.Name,
				Reason: "fresh signals decide again"}
			if in {
				d.Kind = DecisionProbation
				d.Reason = fmt.Sprintf("degraded and blind for %s: re-admitted at %.0f%% of new answers until its signals return", now.Sub(b.since).Round(time.Second), 100*ProbationShare)
			} else if st.status != Degraded {
				d.Reason = "no longer degraded"
			}
			e.journal.Record(d)
		}
		if !in {
			others += live[ci]
			continue
		}
		share := ProbationShare
		if baseTotal > 0 {
			share = min(share, base[ci]/baseTotal)
		}
		on[ci] = share
		onTotal += share
	}
	if onTotal == 0 || others == 0 {
		return nil
	}
	scale := 1.0
	if onTotal > maxProbation {
		scale = maxProbation / onTotal
	}
	for ci, cdn := range e.cfg.CDNs {
		if on[ci] > 0 {
			// others ÷ (1 − total) is the region's total with the CDNs on
			// probation in it; each takes its share of that.
			live[ci] = others * on[ci] * scale / (1 - onTotal*scale)
			causes = append(causes, fmt.Sprintf("%s on probation at %.0f%%", cdn.Name, 100*on[ci]*scale))
		}
	}
	return causes
}
