package health

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Plan is a fallback decided before the event: a named set of overrides
// that is put in force, and ended, as a whole. Its overrides carry only
// what they act on (Action, CDN, Region, Policy); an activation gives them
// the rest.
type Plan struct {
	Name        string
	Description string
	// TTL is how long an activation lasts when the operator gives no ttl.
	TTL       time.Duration
	Overrides []Override
}

// PlanRef marks an override as made by a plan's activation. It travels in
// the override (and so in the decision log), which is what makes an
// activation survive a restart exactly like the overrides it made.
type PlanRef struct {
	Name       string `json:"name"`
	Activation string `json:"activation"`
	// By is who activated it: the operator's name when given, else the
	// client address, or the schedule that put it in force.
	By       string `json:"by,omitempty"`
	Schedule string `json:"schedule,omitempty"`
}

// Activation is what an operator adds to a plan when putting it in force.
type Activation struct {
	Reason string
	By     string
	// Expires is when the overrides end; zero means the plan's TTL from now.
	Expires time.Time
	// Schedule names the schedule that activates the plan, if one does.
	Schedule string
}

// ErrNoPlan is returned for a plan the policy does not define (and that
// has nothing in force).
var ErrNoPlan = errors.New("no such plan")

// PlanError says why a plan cannot be activated as the policy now stands:
// one of its overrides no longer validates (a reload removed what it
// names, say). Nothing of the plan is applied.
type PlanError struct {
	Plan  string
	Index int // of the override at fault
	Err   error
}

func (e *PlanError) Error() string {
	return fmt.Sprintf("plan %q: overrides[%d]: %v", e.Plan, e.Index, e.Err)
}

func (e *PlanError) Unwrap() error { return e.Err }

// Key names the field at fault for the API, overrides[i].KEY.
func (e *PlanError) Key() string {
	var ke *keyerr.Error
	if errors.As(e.Err, &ke) {
		return fmt.Sprintf("overrides[%d].%s", e.Index, ke.Key)
	}
	return fmt.Sprintf("overrides[%d]", e.Index)
}

// plan returns the named plan of the configuration in force, or nil.
func (c *Config) plan(name string) *Plan {
	for i := range c.Plans {
		if c.Plans[i].Name == name {
			return &c.Plans[i]
		}
	}
	return nil
}

// ActivatePlan puts every override of the named plan in force, or none of
// them. It returns the overrides made, in the plan's order.
func (e *Engine) ActivatePlan(name string, a Activation, now time.Time) ([]Override, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.activatePlan(name, a, now)
}

func (e *Engine) activatePlan(name string, a Activation, now time.Time) ([]Override, error) {
	p := e.cfg.plan(name)
	if p == nil {
		return nil, ErrNoPlan
	}
	expires := a.Expires
	if expires.IsZero() {
		expires = now.Add(p.TTL)
	}
	if a.Reason == "" {
		a.Reason = "plan " + name
	}
	ref := PlanRef{Name: name, Activation: newID(), By: a.By, Schedule: a.Schedule}
	made := make([]Override, len(p.Overrides))
	for i, tmpl := range p.Overrides {
		o := Override{Action: tmpl.Action, CDN: tmpl.CDN, Region: tmpl.Region, Policy: tmpl.Policy,
			Reason: a.Reason, By: a.By, Expires: expires, Plan: &ref}
		if err := o.validate(&e.cfg, now); err != nil {
			if isExpiry(err) {
				return nil, err
			}
			return nil, &PlanError{Plan: name, Index: i, Err: err}
		}
		made[i] = o
	}
	by := ""
	if a.By != "" {
		by = " by " + a.By
	}
	e.journal.Record(Decision{Time: now, Kind: DecisionPlan, Plan: &ref,
		Reason: fmt.Sprintf("plan %s activated%s until %s: %s", name, by, expires.UTC().Format(time.RFC3339), a.Reason)})
	e.note(PlanEvent{Time: now, Kind: DecisionPlan, Plan: name, Schedule: a.Schedule,
		Text: fmt.Sprintf("plan %s activated%s: %s", name, by, a.Reason)})
	for i := range made {
		made[i] = e.putOverride(made[i], now)
	}
	return made, nil
}

// EndPlan ends every override any activation of the named plan put in
// force and returns their IDs. A plan with nothing in force is not an
// error (ending is idempotent); a name neither defined nor in force is.
func (e *Engine) EndPlan(name, reason string, now time.Time) ([]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expireOverrides(now)
	ended := e.endPlan(name, "", reason, now)
	if ended == nil && e.cfg.plan(name) == nil {
		return nil, ErrNoPlan
	}
	return ended, nil
}

// endPlan ends the plan's overrides (only those a schedule made, when
// schedule is set); it returns the IDs ended, nil for none.
func (e *Engine) endPlan(name, schedule, reason string, now time.Time) []string {
	var ended []string
	for _, o := range append([]*Override(nil), e.overrides...) {
		if o.Plan == nil || o.Plan.Name != name || (schedule != "" && o.Plan.Schedule != schedule) {
			continue
		}
		e.endOverride(o, now, "plan "+name+" ended: "+reason)
		ended = append(ended, o.ID)
	}
	if ended != nil {
		e.journal.Record(Decision{Time: now, Kind: DecisionPlanEnd, Plan: &PlanRef{Name: name, Schedule: schedule},
			Reason: fmt.Sprintf("plan %s ended (%d overrides): %s", name, len(ended), reason)})
		e.note(PlanEvent{Time: now, Kind: DecisionPlanEnd, Plan: name, Schedule: schedule, Text: fmt.Sprintf("plan %s ended: %s", name, reason)})
	}
	return ended
}

// putOverride gives o its ID and creation time and puts it in force; o
// has been validated.
func (e *Engine) putOverride(o Override, now time.Time) Override {
	o.ID = newID()
	o.Created = now
	if o.Action == ActionFreeze {
		o.Frozen = e.frozenSplit(&o)
	}
	e.overrides = append(e.overrides, &o)
	e.journal.Record(Decision{Time: now, Kind: DecisionOverride, Policy: o.Policy, Region: o.Region, CDN: o.CDN,
		Reason: fmt.Sprintf("%s until %s: %s", o.Action, o.Expires.UTC().Format(time.RFC3339), o.Reason), Override: &o})
	return o
}

// PlanView is a plan as the API shows it: what it does and whether (and
// by whom, why, until when) it is in force.
type PlanView struct {
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	TTL         string           `json:"ttl,omitempty"`
	Overrides   []PlanOverride   `json:"overrides"`
	Active      bool             `json:"active"`
	Activations []ActivationView `json:"activations"`
	// Defined is false for a plan a reload removed while some of its
	// overrides stay in force: it can be ended, not activated.
	Defined bool `json:"defined"`
}

// PlanOverride is one override of a plan, before activation.
type PlanOverride struct {
	Action string `json:"action"`
	CDN    string `json:"cdn,omitempty"`
	Region string `json:"region,omitempty"`
	Policy string `json:"policy,omitempty"`
}

// ActivationView is one activation of a plan still in force.
type ActivationView struct {
	ID        string    `json:"id"`
	By        string    `json:"by,omitempty"`
	Schedule  string    `json:"schedule,omitempty"`
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
	Until     time.Time `json:"until"`
	Overrides []string  `json:"overrides"`
}

// Plans returns every plan of the policy, in the policy's order, then any
// plan no longer defined that still has overrides in force.
func (e *Engine) Plans(now time.Time) []PlanView {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expireOverrides(now)
	out := []PlanView{}
	index := map[string]int{}
	for _, p := range e.cfg.Plans {
		v := PlanView{Name: p.Name, Description: p.Description, TTL: p.TTL.String(), Overrides: []PlanOverride{}, Activations: []ActivationView{}, Defined: true}
		for _, o := range p.Overrides {
			v.Overrides = append(v.Overrides, PlanOverride{Action: o.Action, CDN: o.CDN, Region: o.Region, Policy: o.Policy})
		}
		index[p.Name] = len(out)
		out = append(out, v)
	}
	acts := map[string]int{} // activation → index in its plan's list
	for _, o := range e.overrides {
		if o.Plan == nil {
			continue
		}
		pi, ok := index[o.Plan.Name]
		if !ok {
			pi = len(out)
			index[o.Plan.Name] = pi
			out = append(out, PlanView{Name: o.Plan.Name, Overrides: []PlanOverride{}, Activations: []ActivationView{}})
		}
		pv := &out[pi]
		pv.Active = true
		ai, ok := acts[o.Plan.Activation]
		if !ok {
			ai = len(pv.Activations)
			acts[o.Plan.Activation] = ai
			pv.Activations = append(pv.Activations, ActivationView{ID: o.Plan.Activation, By: o.Plan.By, Schedule: o.Plan.Schedule,
				Reason: o.Reason, Since: o.Created, Until: o.Expires})
		}
		a := &pv.Activations[ai]
		a.Overrides = append(a.Overrides, o.ID)
		if o.Expires.After(a.Until) {
			a.Until = o.Expires
		}
	}
	for i := range out {
		sort.SliceStable(out[i].Activations, func(a, b int) bool { return out[i].Activations[a].Since.Before(out[i].Activations[b].Since) })
	}
	return out
}

// PlanEvent is an activation, an ending or a schedule's start or end, for
// the live view's timeline.
type PlanEvent struct {
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	Plan     string    `json:"plan,omitempty"`
	Schedule string    `json:"schedule,omitempty"`
	Text     string    `json:"text"`
}

// maxPlanEvents bounds the events kept in memory; the decision log has
// them all.
const maxPlanEvents = 500

func (e *Engine) note(ev PlanEvent) {
	e.events = append(e.events, ev)
	if len(e.events) > maxPlanEvents {
		e.events = append(e.events[:0], e.events[len(e.events)-maxPlanEvents:]...)
	}
}

// PlanEvents returns the plan and schedule events at or after since,
// oldest first.
func (e *Engine) PlanEvents(since time.Time) []PlanEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := []PlanEvent{}
	for _, ev := range e.events {
		if !ev.Time.Before(since) {
			out = append(out, ev)
		}
	}
	return out
}

// restoreEvent takes a logged plan or schedule event back into the
// timeline after a restart.
func (e *Engine) restoreEvent(d Decision) {
	ev := PlanEvent{Time: d.Time, Kind: d.Kind, Text: d.Reason}
	if d.Plan != nil {
		ev.Plan, ev.Schedule = d.Plan.Name, d.Plan.Schedule
	}
	if d.Schedule != nil {
		ev.Schedule, ev.Plan = d.Schedule.Name, d.Schedule.Plan
	}
	e.note(ev)
}
