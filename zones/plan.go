package zones

import (
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// PlanConfig is one [[plan]]: a fallback decided before the event.
type PlanConfig struct {
	Name        string               `toml:"name"`
	Description string               `toml:"description"`
	TTL         *time.Duration       `toml:"ttl"`
	Overrides   []PlanOverrideConfig `toml:"overrides"`
}

// PlanOverrideConfig is one override of a plan: what the API's override
// takes, less what an activation gives (reason, expiry).
type PlanOverrideConfig struct {
	Action string `toml:"action"`
	CDN    string `toml:"cdn"`
	Region string `toml:"region"`
	Policy string `toml:"policy"`
}

// ScheduleConfig is one [[schedule]]: a window known in advance.
type ScheduleConfig struct {
	Name  string `toml:"name"`
	Start string `toml:"start"`
	End   string `toml:"end"`
	TTL   *int64 `toml:"ttl"`
	Plan  string `toml:"plan"`
}

const (
	// DefaultPlanTTL is how long an activation lasts when neither the
	// plan nor the operator says.
	DefaultPlanTTL = time.Hour
	// MaxPlanTTL matches the API's longest override: a plan forgotten
	// for longer would quietly keep overruling the health scores.
	MaxPlanTTL = 7 * 24 * time.Hour
)

// now is the clock of the warnings about windows already past.
var scheduleClock = time.Now

// plans compiles [[plan]] and [[schedule]]. Their overrides are checked
// by the engine's own check, so a plan that passes here is one the engine
// accepts.
func (c *compiler) plans(f *File, s *Snapshot) {
	// Names are all the check needs; a policy with errors of its own
	// (no weights, say) still names its CDNs, regions and policies.
	var cfg health.Config
	for _, cdn := range s.CDNs {
		cfg.CDNs = append(cfg.CDNs, health.CDNInfo{Name: cdn.Name})
	}
	for _, r := range s.Regions {
		cfg.Regions = append(cfg.Regions, r.Name)
	}
	for _, p := range s.Policies {
		cfg.Policies = append(cfg.Policies, health.PolicyInfo{Name: p.Name})
	}
	names := map[string]bool{}
	for i, pc := range f.Plan {
		at := fmt.Sprintf("plan[%d]", i)
		who := fmt.Sprintf("plan %q: ", pc.Name)
		ok := true
		switch {
		case !identifier.MatchString(pc.Name):
			c.el.Add(at+".name", "plan %q: name must be lower-case letters, digits, '-' or '_'", pc.Name)
			ok = false
		case names[pc.Name]:
			c.el.Add(at+".name", "plan %q is defined twice", pc.Name)
			ok = false
		}
		names[pc.Name] = true
		p := health.Plan{Name: pc.Name, Description: pc.Description, TTL: DefaultPlanTTL}
		if pc.TTL != nil {
			if d := *pc.TTL; d <= 0 || d > MaxPlanTTL {
				c.el.Add(at+".ttl", "%sttl %s is outside 1s..%s", who, d, MaxPlanTTL)
				ok = false
			} else {
				p.TTL = d
			}
		}
		if len(pc.Overrides) == 0 {
			c.el.Add(at, "%sa plan needs at least one override (overrides = [ { action = \"drain\", cdn = \"…\" } ])", who)
			ok = false
		}
		for j, oc := range pc.Overrides {
			o := health.Override{Action: oc.Action, CDN: oc.CDN, Region: oc.Region, Policy: oc.Policy}
			if err := o.CheckTarget(&cfg); err != nil {
				c.keyErrors(fmt.Sprintf("%s.overrides[%d]", at, j), who, fmt.Sprintf("overrides[%d].", j), err)
				ok = false
				continue
			}
			p.Overrides = append(p.Overrides, o)
		}
		if ok {
			s.Plans = append(s.Plans, p)
		}
	}
	c.schedules(f.Schedule, names, s)
}

func (c *compiler) schedules(scs []ScheduleConfig, plans map[string]bool, s *Snapshot) {
	names := map[string]bool{}
	var lines []int // of each compiled schedule, for the warnings
	for i, sc := range scs {
		at := fmt.Sprintf("schedule[%d]", i)
		who := fmt.Sprintf("schedule %q: ", sc.Name)
		ok := true
		switch {
		case !identifier.MatchString(sc.Name):
			c.el.Add(at+".name", "schedule %q: name must be lower-case letters, digits, '-' or '_'", sc.Name)
			ok = false
		case names[sc.Name]:
			c.el.Add(at+".name", "schedule %q is defined twice", sc.Name)
			ok = false
		}
		names[sc.Name] = true
		start, okStart := c.instant(at+".start", who+"start", sc.Start)
		end, okEnd := c.instant(at+".end", who+"end", sc.End)
		if okStart && okEnd && !end.After(start) {
			c.el.Add(at+".end", "%send %s is not after start %s", who, sc.End, sc.Start)
			ok = false
		}
		ok = ok && okStart && okEnd
		sch := health.Schedule{Name: sc.Name, Start: start, End: end, Plan: sc.Plan}
		if sc.TTL != nil {
			if t := *sc.TTL; t < 1 || t > 86400 {
				c.el.Add(at+".ttl", "%sttl %d is outside 1..86400", who, t)
				ok = false
			} else {
				sch.TTL = time.Duration(t) * time.Second
			}
		}
		if sc.Plan != "" && !plans[sc.Plan] {
			c.el.Add(at+".plan", "%splan %q is not defined in a [[plan]]", who, sc.Plan)
			ok = false
		}
		if sc.TTL == nil && sc.Plan == "" {
			c.el.Add(at, "%sa schedule needs a ttl, a plan or both", who)
			ok = false
		}
		if ok {
			s.Schedules = append(s.Schedules, sch)
			lines = append(lines, c.el.Line(at))
		}
	}
	t := scheduleClock()
	for i, a := range s.Schedules {
		if !a.End.After(t) {
			s.Warnings = append(s.Warnings, fmt.Sprintf("line %d: schedule %q ended at %s: its window is entirely in the past",
				lines[i], a.Name, a.End.UTC().Format(time.RFC3339)))
		}
		for j := i + 1; j < len(s.Schedules); j++ {
			if b := s.Schedules[j]; a.Start.Before(b.End) && b.Start.Before(a.End) {
				s.Warnings = append(s.Warnings, fmt.Sprintf("line %d: schedule %q overlaps schedule %q (line %d): both are in force from %s",
					lines[j], b.Name, a.Name, lines[i], laterOf(a.Start, b.Start).UTC().Format(time.RFC3339)))
			}
		}
	}
}

// instant parses an RFC 3339 time with its offset: a window known in
// advance must not move with the server's time zone.
func (c *compiler) instant(at, what, v string) (time.Time, bool) {
	if v == "" {
		c.el.Add(at, "%s is missing (RFC 3339, such as 2026-06-14T11:00:00Z)", what)
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		c.el.Add(at, "%s %q is not an RFC 3339 time with an offset, such as 2026-06-14T11:00:00Z", what, v)
		return time.Time{}, false
	}
	return t, true
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ttlInFlux compiles [policy.NAME] ttl_in_flux: a TTL above the policy's
// would slow resolvers down just when the split moves.
func (c *compiler) ttlInFlux(at, name string, p *Policy, v *int64) {
	if v == nil {
		return
	}
	if t := *v; t < 1 || t > int64(p.TTL) {
		c.el.Add(at+".ttl_in_flux", "policy %q: ttl_in_flux %d is outside 1..%d (the policy's ttl)", name, t, p.TTL)
		return
	}
	p.TTLInFlux = uint32(*v)
}
