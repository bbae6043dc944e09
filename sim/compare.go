package sim

import (
	"slices"
	"sync"
)

// What a counterfactual leaves out.
const (
	WithoutPlans = "plans" // the scenario's plan activations and the plans schedules put in force
	WithoutTTL   = "ttl"   // the schedules' TTLs and ttl_in_flux: every answer carries the policy's TTL
	// WithoutSteering is DNS alone: the players that use content
	// steering behave as the others do.
	WithoutSteering = "steering"
)

// Counterfactual is the same event with the same seed, less one thing the
// operators arranged: what the run did better (or worse) than it is what
// that thing changed.
type Counterfactual struct {
	// Without is WithoutPlans, WithoutTTL or WithoutSteering.
	Without                string  `json:"without"`
	ViewerMinutesImpaired  float64 `json:"viewer_minutes_impaired"`
	ViewerMinutesFaulted   float64 `json:"viewer_minutes_faulted"`
	ViewerMinutesSaturated float64 `json:"viewer_minutes_saturated"`
	PeakImpaired           int64   `json:"peak_impaired_viewers"`
	// HighestCDN reached HighestUtilisation, the highest peak against
	// its commit; MinutesOverCommit adds up every CDN's.
	HighestCDN         string  `json:"highest_cdn"`
	HighestUtilisation float64 `json:"highest_utilisation"`
	MinutesOverCommit  float64 `json:"minutes_over_commit"`
	Degradations       int     `json:"degradations"`
	Shifts             int     `json:"shifts"`
	ViewerSwitches     int64   `json:"viewer_switches"`
	// Faults are index-aligned with the run's Summary.Faults.
	Faults []CounterfactualFault `json:"faults"`
}

// CounterfactualFault is how one fault or drain went in a counterfactual.
type CounterfactualFault struct {
	Name                  string   `json:"name"`
	MovedAfter            *Seconds `json:"moved_after_s"`
	ViewerMinutesImpaired float64  `json:"viewer_minutes_impaired"`
}

// counterfactuals names what is worth leaving out of sc: the plans when
// any is put in force during the event, the TTL changes when any applies
// during it, content steering when any player uses it.
func counterfactuals(sc *Scenario) []string {
	if !sc.Compare {
		return nil
	}
	var out []string
	if usesPlans(sc) {
		out = append(out, WithoutPlans)
	}
	if changesTTL(sc) {
		out = append(out, WithoutTTL)
	}
	if sc.Players.SteeringShare > 0 {
		out = append(out, WithoutSteering)
	}
	return out
}

// inEvent tells whether a schedule's window overlaps the event.
func (sc *Scenario) inEvent(i int) bool {
	s := sc.Policy.Config.Schedules[i]
	end := sc.Start.Add(sc.Duration)
	return s.Start.Before(end) && s.End.After(sc.Start)
}

func usesPlans(sc *Scenario) bool {
	for _, a := range sc.Plans {
		if !a.End && a.At < sc.Duration {
			return true
		}
	}
	for i, s := range sc.Policy.Config.Schedules {
		if s.Plan != "" && sc.inEvent(i) {
			return true
		}
	}
	return false
}

func changesTTL(sc *Scenario) bool {
	for i, s := range sc.Policy.Config.Schedules {
		if s.TTL > 0 && s.TTL != sc.Policy.TTL && sc.inEvent(i) {
			return true
		}
	}
	flux := sc.Policy.Config.Policies[sc.Policy.Index].TTLInFlux
	return flux > 0 && flux != sc.Policy.TTL
}

// without is a copy of sc less what leave names. The copy shares what
// runs only read; what it changes is copied first.
func (sc *Scenario) without(leave string) *Scenario {
	c := *sc
	c.Compare = false
	cfg := &c.Policy.Config
	cfg.Schedules = slices.Clone(cfg.Schedules)
	switch leave {
	case WithoutPlans:
		c.Plans = nil
		for i := range cfg.Schedules {
			cfg.Schedules[i].Plan = ""
		}
	case WithoutTTL:
		for i := range cfg.Schedules {
			cfg.Schedules[i].TTL = 0
		}
		cfg.Policies = slices.Clone(cfg.Policies)
		cfg.Policies[c.Policy.Index].TTLInFlux = 0
	case WithoutSteering:
		c.Players.SteeringShare = 0
	}
	return &c
}

// comparison runs the counterfactuals alongside the run itself; wait
// returns them in the order counterfactuals gives.
type comparison struct {
	wg   sync.WaitGroup
	out  []Counterfactual
	errs []error
}

func compare(sc *Scenario) *comparison {
	leave := counterfactuals(sc)
	c := &comparison{out: make([]Counterfactual, len(leave)), errs: make([]error, len(leave))}
	for i, what := range leave {
		v := sc.without(what)
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			res, err := Run(v, nil)
			if err != nil {
				c.errs[i] = err
				return
			}
			c.out[i] = res.Summary.counterfactual(what)
		}()
	}
	return c
}

func (c *comparison) wait() ([]Counterfactual, error) {
	c.wg.Wait()
	for _, err := range c.errs {
		if err != nil {
			return nil, err
		}
	}
	if len(c.out) == 0 {
		return nil, nil
	}
	return c.out, nil
}

func (s *Summary) counterfactual(without string) Counterfactual {
	cf := Counterfactual{Without: without, ViewerMinutesImpaired: s.ViewerMinutesImpaired, ViewerMinutesFaulted: s.ViewerMinutesFaulted,
		ViewerMinutesSaturated: s.ViewerMinutesSaturated, PeakImpaired: s.PeakImpaired, Degradations: s.Degradations, Shifts: s.Shifts,
		ViewerSwitches: s.ViewerSwitches, Faults: []CounterfactualFault{}}
	cf.HighestCDN, cf.HighestUtilisation, cf.MinutesOverCommit = s.highest()
	for _, f := range s.Faults {
		cf.Faults = append(cf.Faults, CounterfactualFault{Name: f.Name, MovedAfter: f.MovedAfter, ViewerMinutesImpaired: f.ViewerMinutesImpaired})
	}
	return cf
}

// highest is the CDN whose peak came closest to (or went furthest past)
// its commit, that peak, and the minutes every CDN spent over its commit.
func (s *Summary) highest() (string, float64, float64) {
	cdn, peak, over := "", 0.0, 0.0
	for _, c := range s.CDNs {
		if c.CommitGbps > 0 && c.PeakUtilisation > peak {
			cdn, peak = c.CDN, c.PeakUtilisation
		}
		over += c.MinutesOverCommit
	}
	return cdn, peak, over
}
