package sim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// PlanAction is an operator activating one of the policy's plans, or
// ending it, as the API's POST /api/v1/plans/NAME/activate and
// DELETE /api/v1/plans/NAME would.
type PlanAction struct {
	Plan string
	// At is an offset from the scenario's start.
	At time.Duration
	// End ends the plan as a whole rather than activating it.
	End bool
	// TTL is how long an activation lasts; 0 means the plan's own ttl.
	TTL time.Duration
	// Reason and By go in the decision log.
	Reason string
	By     string
}

// plans reads [[plan_activation]]: each activates a plan at its at, and
// with end also ends it then.
func (b *binder) plans(pfs []planActivationFile) {
	cfg := &b.sc.Policy.Config
	for i, pf := range pfs {
		at := fmt.Sprintf("plan_activation[%d]", i)
		plan := planNamed(cfg, pf.Plan)
		switch {
		case pf.Plan == "":
			b.p.Add(at, "plan_activation %d needs a plan", i+1)
		case plan == nil:
			b.p.Add(at+".plan", "plan_activation %d: unknown plan %q (the policy has %s)", i+1, pf.Plan, planNames(cfg))
		}
		if pf.At == nil || *pf.At < 0 {
			b.p.Add(at, "plan_activation %d needs at (0 or more)", i+1)
			continue
		}
		a := PlanAction{Plan: pf.Plan, At: *pf.At, Reason: pf.Reason, By: pf.By}
		if a.Reason == "" {
			a.Reason = "scenario: plan " + a.Plan
		}
		if pf.TTL != nil {
			if *pf.TTL <= 0 {
				b.p.Add(at+".ttl", "plan_activation %d: ttl must be positive", i+1)
				continue
			}
			a.TTL = *pf.TTL
		}
		b.sc.Plans = append(b.sc.Plans, a)
		if pf.End == nil {
			continue
		}
		expires := a.TTL
		if expires == 0 && plan != nil {
			expires = plan.TTL
		}
		switch end := *pf.End; {
		case end <= a.At:
			b.p.Add(at+".end", "plan_activation %d must end after it is activated", i+1)
		case expires > 0 && end > a.At+expires:
			b.p.Add(at+".end", "plan_activation %d: end %s comes after the activation expires by itself (at + ttl = %s)", i+1, end, a.At+expires)
		default:
			b.sc.Plans = append(b.sc.Plans, PlanAction{Plan: a.Plan, At: end, End: true, Reason: "scenario: plan " + a.Plan + " ended", By: a.By})
		}
	}
	// Activations and endings are put in force in time order; at one
	// time, in file order.
	sort.SliceStable(b.sc.Plans, func(i, j int) bool { return b.sc.Plans[i].At < b.sc.Plans[j].At })
}

func planNamed(cfg *health.Config, name string) *health.Plan {
	for i := range cfg.Plans {
		if cfg.Plans[i].Name == name {
			return &cfg.Plans[i]
		}
	}
	return nil
}

func planNames(cfg *health.Config) string {
	if len(cfg.Plans) == 0 {
		return "no [[plan]]"
	}
	names := make([]string, len(cfg.Plans))
	for i, p := range cfg.Plans {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// planActions activates and ends the plans that are due, as an operator
// would through the API.
func (r *runner) planActions(d time.Duration, now time.Time) error {
	sc := r.sc
	for ; r.planned < len(sc.Plans) && sc.Plans[r.planned].At <= d; r.planned++ {
		a := sc.Plans[r.planned]
		if a.End {
			if _, err := r.eng.EndPlan(a.Plan, a.Reason, now); err != nil {
				return fmt.Errorf("simulate %s: end plan %s: %w", sc.Name, a.Plan, err)
			}
			continue
		}
		act := health.Activation{Reason: a.Reason, By: a.By}
		if a.TTL > 0 {
			act.Expires = sc.Start.Add(a.At + a.TTL)
		}
		if _, err := r.eng.ActivatePlan(a.Plan, act, now); err != nil {
			return fmt.Errorf("simulate %s: activate plan %s at %s: %w", sc.Name, a.Plan, a.At, err)
		}
	}
	return nil
}
