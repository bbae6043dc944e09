package report

import (
	"fmt"
	"slices"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// sameWithin is how far apart two instances may log one change for the
// merge to take them as one: instances of a fleet evaluate on their own
// ticks, so the same status change lands an evaluation or two apart.
const sameWithin = 5 * time.Second

// Merge makes one timeline of the decision logs of several instances of a
// fleet (one log each, in the order given), sorted by time. What the fleet
// replicated is in every log: an override, its end and a note appear once
// (by ID; the first log to have it gives the line). What each engine
// decided on its own, from the same policy and telemetry, is usually the
// same change logged by each: a status change, a weight move, a reload of
// the same policy is kept once when another log has it within sameWithin.
// Checkpoints and restarts are each instance's own and are all kept, a
// delta checkpoint made full from its own log's checkpoints before them
// (the next checkpoint read may be another instance's).
func Merge(logs ...[]health.Decision) []health.Decision {
	if len(logs) == 1 {
		return logs[0]
	}
	var all []health.Decision
	for _, l := range logs {
		all = append(all, fullCheckpoints(l)...)
	}
	// Stable: at equal times the first log's line comes first.
	slices.SortStableFunc(all, func(a, b health.Decision) int { return a.Time.Compare(b.Time) })
	seenOverride := map[string]bool{}
	seenNote := map[string]bool{}
	recent := map[string]time.Time{} // change key → when last kept
	out := make([]health.Decision, 0, len(all))
	for _, d := range all {
		switch {
		case (d.Kind == health.DecisionOverride || d.Kind == health.DecisionOverrideEnd) && d.Override != nil && d.Override.ID != "":
			k := d.Kind + "/" + d.Override.ID
			if seenOverride[k] {
				continue
			}
			seenOverride[k] = true
		case d.Kind == health.DecisionAnnotation && d.Annotation != nil && d.Annotation.ID != "":
			if seenNote[d.Annotation.ID] {
				continue
			}
			seenNote[d.Annotation.ID] = true
		case d.Kind == health.DecisionCheckpoint || d.Kind == health.DecisionRestore:
		default:
			k := changeKey(d)
			if t, ok := recent[k]; ok && d.Time.Sub(t) <= sameWithin {
				continue
			}
			recent[k] = d.Time
		}
		out = append(out, d)
	}
	return out
}

// changeKey says what a decision changed, to recognise the same change
// in another instance's log.
func changeKey(d health.Decision) string {
	k := d.Kind + "|" + d.Policy + "|" + d.Region + "|" + d.CDN + "|" + d.From + "|" + d.To
	if d.Kind == health.DecisionWeights {
		cdns := make([]string, 0, len(d.Weights))
		for c := range d.Weights {
			cdns = append(cdns, c)
		}
		slices.Sort(cdns)
		for _, c := range cdns {
			// Weights a hair apart are the same move seen a tick apart.
			k += fmt.Sprintf("|%s=%.2f", c, d.Weights[c])
		}
	}
	if d.Plan != nil {
		k += "|" + d.Plan.Name + "/" + d.Plan.Activation
	}
	if d.Schedule != nil {
		k += "|" + d.Schedule.Name
	}
	if d.Escalation != nil {
		k += "|" + d.Escalation.ID
	}
	return k
}

// fullCheckpoints is log with each delta checkpoint replaced by the full
// one it stands for; log itself is left alone.
func fullCheckpoints(log []health.Decision) []health.Decision {
	var ck health.CheckpointState
	out, cloned := log, false
	for i, d := range log {
		if d.Kind != health.DecisionCheckpoint {
			continue
		}
		states := ck.Apply(d)
		if !d.Delta {
			continue
		}
		if !cloned {
			out, cloned = slices.Clone(log), true
		}
		out[i].Delta, out[i].States = false, slices.Clone(states)
	}
	return out
}
