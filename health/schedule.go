package health

import (
	"fmt"
	"time"
)

// Schedule is a window known in advance (a match): during it the steered
// TTL may be lowered and a plan put in force; both revert by themselves
// at its end.
type Schedule struct {
	Name  string
	Start time.Time
	End   time.Time
	// TTL is the steered TTL during the window; 0 leaves it alone.
	TTL time.Duration
	// Plan is put in force for the window; "" for none.
	Plan string
}

// ScheduleRef is a schedule's window as the decision log records it.
type ScheduleRef struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	TTL   int64     `json:"ttl,omitempty"` // seconds
	Plan  string    `json:"plan,omitempty"`
}

func (s *Schedule) ref() ScheduleRef {
	return ScheduleRef{Name: s.Name, Start: s.Start, End: s.End, TTL: int64(s.TTL / time.Second), Plan: s.Plan}
}

// in tells whether now falls in the window, start included, end not.
func (s *Schedule) in(now time.Time) bool { return !now.Before(s.Start) && now.Before(s.End) }

// scheduleKey names one window: a schedule whose times a reload changes
// is another window, to be started afresh.
func scheduleKey(r ScheduleRef) string {
	return r.Name + "|" + r.Start.UTC().Format(time.RFC3339Nano) + "|" + r.End.UTC().Format(time.RFC3339Nano)
}

// scheduleState is what the engine did about one window. It is rebuilt
// from the decision log after a restart, so that a window begun before
// the restart is not begun again (re-activating a plan an operator had
// ended), and one never begun is begun late rather than not at all.
type scheduleState struct {
	ref            ScheduleRef
	started, ended bool
}

// runSchedules begins the windows whose start has come and ends those
// whose end has; it runs first in every evaluation.
func (e *Engine) runSchedules(now time.Time) {
	live := map[string]bool{}
	for i := range e.cfg.Schedules {
		s := &e.cfg.Schedules[i]
		ref := s.ref()
		k := scheduleKey(ref)
		live[k] = true
		st := e.schedules[k]
		if st == nil {
			st = &scheduleState{ref: ref}
			e.schedules[k] = st
		}
		if !st.started && s.in(now) {
			e.beginWindow(st, now)
		}
		if st.started && !st.ended && !now.Before(s.End) {
			e.endWindow(st, now, "its window is over")
		}
	}
	for k, st := range e.schedules {
		if live[k] {
			continue
		}
		if st.started && !st.ended {
			e.endWindow(st, now, "the policy no longer has it")
		}
		delete(e.schedules, k)
	}
}

func (e *Engine) beginWindow(st *scheduleState, now time.Time) {
	st.started = true
	r := st.ref
	reason := fmt.Sprintf("schedule %s in force until %s", r.Name, r.End.UTC().Format(time.RFC3339))
	if r.TTL > 0 {
		reason += fmt.Sprintf(", steered TTL %d s", r.TTL)
	}
	if r.Plan != "" {
		if _, err := e.activatePlan(r.Plan, Activation{Reason: "schedule " + r.Name, By: "schedule " + r.Name, Expires: r.End, Schedule: r.Name}, now); err != nil {
			reason += fmt.Sprintf("; plan %s NOT activated: %v", r.Plan, err)
		} else {
			reason += ", plan " + r.Plan + " in force"
		}
	}
	// The window is logged after the plan's lines: Restore reads a
	// logged start as "done", and it is done only once the plan is.
	e.journal.Record(Decision{Time: now, Kind: DecisionSchedule, Schedule: &r, Reason: reason})
	e.note(PlanEvent{Time: now, Kind: DecisionSchedule, Schedule: r.Name, Plan: r.Plan, Text: reason})
}

func (e *Engine) endWindow(st *scheduleState, now time.Time, why string) {
	st.ended = true
	r := st.ref
	if r.Plan != "" {
		e.endPlan(r.Plan, r.Name, "schedule "+r.Name+" ended", now)
	}
	reason := fmt.Sprintf("schedule %s ended: %s", r.Name, why)
	e.journal.Record(Decision{Time: now, Kind: DecisionScheduleEnd, Schedule: &r, Reason: reason})
	e.note(PlanEvent{Time: now, Kind: DecisionScheduleEnd, Schedule: r.Name, Plan: r.Plan, Text: reason})
}

// restoreSchedule takes a logged window's start or end back into memory.
func (e *Engine) restoreSchedule(d Decision) {
	if d.Schedule == nil {
		return
	}
	k := scheduleKey(*d.Schedule)
	st := e.schedules[k]
	if st == nil {
		st = &scheduleState{ref: *d.Schedule}
		e.schedules[k] = st
	}
	st.started = true
	st.ended = st.ended || d.Kind == DecisionScheduleEnd
}

// NextScheduleEdge is the next start or end of a window after now, when
// the engine must evaluate for a schedule to take effect on time; zero
// when there is none.
func (e *Engine) NextScheduleEdge(now time.Time) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var next time.Time
	for _, s := range e.cfg.Schedules {
		for _, t := range []time.Time{s.Start, s.End} {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	}
	return next
}

// ScheduleView is a schedule as the live view shows it.
type ScheduleView struct {
	Name  string    `json:"name"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	TTL   int64     `json:"ttl,omitempty"`
	Plan  string    `json:"plan,omitempty"`
	// State is "in_force", "upcoming" or "past".
	State string `json:"state"`
	// Next marks the upcoming window that starts first.
	Next bool `json:"next,omitempty"`
}

// Schedules returns the policy's schedules in the policy's order.
func (e *Engine) Schedules(now time.Time) []ScheduleView {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []ScheduleView{}
	next := -1
	for i, s := range e.cfg.Schedules {
		v := ScheduleView{Name: s.Name, Start: s.Start, End: s.End, TTL: int64(s.TTL / time.Second), Plan: s.Plan, State: "past"}
		switch {
		case s.in(now):
			v.State = "in_force"
		case now.Before(s.Start):
			v.State = "upcoming"
			if next < 0 || s.Start.Before(e.cfg.Schedules[next].Start) {
				next = i
			}
		}
		out = append(out, v)
	}
	if next >= 0 {
		out[next].Next = true
	}
	return out
}

// regionTTL is the steered TTL of a policy's region now, in seconds, and
// why it is not the policy's (0 and "" when it is). A schedule's ttl
// replaces the policy's during its window; ttl_in_flux applies while a
// CDN of the region is degraded or recovering. When both apply the lower
// wins: each is an operator asking for resolvers to follow changes at
// least that fast.
func (e *Engine) regionTTL(pi, ri int, now time.Time) (uint32, string) {
	pol := &e.cfg.Policies[pi]
	ttl, cause := time.Duration(0), ""
	for _, s := range e.cfg.Schedules {
		if s.TTL > 0 && s.in(now) && (ttl == 0 || s.TTL < ttl) {
			ttl, cause = s.TTL, "schedule "+s.Name
		}
	}
	if pol.TTLInFlux > 0 && (ttl == 0 || pol.TTLInFlux < ttl) {
		for ci, cdn := range e.cfg.CDNs {
			if st := e.ix.cdn(pi, ri, ci); st.status == Degraded || st.status == Recovering {
				ttl, cause = pol.TTLInFlux, "ttl_in_flux: "+cdn.Name+" "+string(st.status)
				break
			}
		}
	}
	if ttl == 0 || ttl == pol.TTL {
		return 0, ""
	}
	return uint32(ttl / time.Second), cause
}
