package health

import (
	"fmt"
	"slices"
	"time"
)

// Restore rebuilds the engine's memory from a decision log after a
// restart: each CDN's score, status and ramp as the checkpoints (full, or
// deltas of what changed, applied in order) left them, the state changes
// logged after that, and the overrides still in force. A CDN the log does
// not mention starts healthy at its baseline weight: nothing is declared
// down merely for not having been measured yet. It returns the annotations
// found, for the caller to keep.
func (e *Engine) Restore(ds []Decision, now time.Time) []Annotation {
	return e.restore(ds, len(ds), now)
}

// RestoreLog is Restore from a log read by ReadRestoreLog.
func (e *Engine) RestoreLog(l *RestoreLog, now time.Time) []Annotation {
	return e.restore(l.Decisions, l.Lines, now)
}

func (e *Engine) restore(ds []Decision, lines int, now time.Time) []Annotation {
	e.mu.Lock()
	defer e.mu.Unlock()
	overrides := map[string]*Override{}
	var notes []Annotation
	restored := 0 // CDN states given a score
	for _, d := range ds {
		switch d.Kind {
		case DecisionCheckpoint:
			for _, c := range d.States {
				st := e.cdnState(c.Policy, c.Region, c.CDN)
				if !st.hasScore {
					restored++
				}
				st.score, st.hasScore, st.status, st.ramp = c.Score, true, c.Status, c.Ramp
				st.below, st.above = 0, 0
			}
		case DecisionState:
			if d.Score == nil || d.CDN == "" {
				continue
			}
			st := e.cdnState(d.Policy, d.Region, d.CDN)
			if !st.hasScore {
				restored++
			}
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
		Reason: fmt.Sprintf("warm restart: %d CDN states from %d log entries, %d overrides in force, %d annotations", restored, lines, kept, len(notes))})
	return notes
}
