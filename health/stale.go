package health

import (
	"fmt"
	"time"
)

// neverMeasured flags a region stale when none of its CDNs has had a
// fresh signal since the engine first evaluated it, signal_max_age ago:
// probes that never ran, a Prometheus query that matches nothing, pushes
// that never came. Its split is the baseline (there is no measured split
// to hold), so nothing moves; but the region is as blind as one whose
// telemetry stopped, and shows and alerts the same way
// (cdnsteer_region_telemetry_stale, the view's stale flag, the decision
// log). Fresh signals end it like any staleness (failStatic).
func (e *Engine) neverMeasured(rs *regionState, pol *PolicyInfo, region string, now time.Time) {
	if rs.born.IsZero() {
		rs.born = now
	}
	maxAge := pol.Params.SignalMaxAge
	if !rs.staleSince.IsZero() || now.Sub(rs.born) < maxAge {
		return
	}
	rs.staleSince = now
	e.journal.Record(Decision{Time: now, Kind: DecisionStale, Policy: pol.Name, Region: region,
		Reason: fmt.Sprintf("no fresh signal for any CDN of the region since it was first evaluated %s ago (signal_max_age %s): serving the baseline split", now.Sub(rs.born).Round(time.Second), maxAge)})
}
