package health

import (
	"fmt"
	"slices"
	"time"
)

// Restore rebuilds the engine's memory from a decision log after a
// restart: the last checkpoint's scores and statuses, the state changes
// logged after it, and the overrides still in force. A CDN the log does not
// mention starts healthy at its baseline weight: nothing is declared down
// merely for not having been measured yet. It returns the annotations found,
// for the caller to keep.
func (e *Engine) Restore(ds []Decision, now time.Time) []Annotation {
	e.mu.Lock()
	defer e.mu.Unlock()
	overrides := map[string]*Override{}
	var notes []Annotation
	restored := 0
	for _, d := range ds {
		switch d.Kind {
		case DecisionCheckpoint:
			restored = len(d.States) // the last checkpoint is the one that counts
			for _, c := range d.States {
				st := e.cdnState(c.Policy, c.Region, c.CDN)
				st.score, st.hasScore, st.status, st.ramp = c.Score, true, c.Status, c.Ramp
				st.below, st.above = 0, 0
			}
		case DecisionState:
			if d.Score == nil || d.CDN == "" {
				continue
			}
			st := e.cdnState(d.Policy, d.Region, d.CDN)
			st.score, st.hasScore, st.status, st.lastChange = *d.Score, true, Status(d.To), d.Time
			switch st.status {
			case Degraded:
				st.ramp = 0
			case Recovering:
				// The log has the status, not how far the ramp had come:
				// start it over, which errs on the careful side.
				st.ramp = 1
				if pi := e.cfg.PolicyIndex(d.Policy); pi >= 0 {
					st.ramp = e.cfg.Policies[pi].Params.RecoveryStep
				}
			default:
				st.status, st.ramp = Healthy, 1
			}
		case DecisionOverride:
			if d.Override != nil && d.Override.ID != "" {
				o := *d.Override
				overrides[o.ID] = &o
			}
		case DecisionOverrideEnd:
			if d.Override != nil {
				delete(overrides, d.Override.ID)
			}
		case DecisionSchedule, DecisionScheduleEnd:
			e.restoreSchedule(d)
			e.restoreEvent(d)
		case DecisionPlan, DecisionPlanEnd:
			e.restoreEvent(d)
		case DecisionAnnotation:
			if d.Annotation != nil {
				notes = append(notes, *d.Annotation)
			}
		}
	}
	// In the order they were set: the first pin or freeze of a region
	// wins, after a restart as before it.
	ordered := make([]*Override, 0, len(overrides))
	for _, o := range overrides {
		ordered = append(ordered, o)
	}
	slices.SortFunc(ordered, func(a, b *Override) int { return a.Created.Compare(b.Created) })
	kept := 0
	for _, o := range ordered {
		if o.validate(&e.cfg, now) == nil {
			e.overrides = append(e.overrides, o)
			kept++
		}
	}
	e.journal.Record(Decision{Time: now, Kind: DecisionRestore,
		Reason: fmt.Sprintf("warm restart: %d CDN states from %d log entries, %d overrides in force, %d annotations", restored, len(ds), kept, len(notes))})
	return notes
}
