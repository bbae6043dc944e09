package health

import (
	"slices"
	"time"
)

// View is the engine's state for people and tools: /api/v1/state, the
// live view, explain.
type View struct {
	Time      time.Time    `json:"time"`
	Policies  []PolicyView `json:"policies"`
	Overrides []Override   `json:"overrides"`
}

// PolicyView is one policy's state.
type PolicyView struct {
	Name    string       `json:"name"`
	Regions []RegionView `json:"regions"`
}

// RegionView is one region's state within a policy.
type RegionView struct {
	Name       string    `json:"name"`
	FailedOpen bool      `json:"failed_open"`
	Stale      bool      `json:"stale"`
	StaleSince time.Time `json:"stale_since,omitzero"`
	// Reason is why the split last moved.
	Reason string `json:"reason,omitempty"`
	// TTL is the steered answers' TTL in seconds now; TTLCause why it is
	// not the policy's (ttl_in_flux, a schedule), empty when it is.
	TTL      uint32    `json:"ttl"`
	TTLCause string    `json:"ttl_cause,omitempty"`
	CDNs     []CDNView `json:"cdns"`
}

// CDNView is one CDN's state within a policy and region.
type CDNView struct {
	Name string `json:"name"`
	// Score is nil until the CDN has been measured.
	Score    *float64 `json:"score"`
	Status   Status   `json:"status"`
	Weight   float64  `json:"weight"`
	Baseline float64  `json:"baseline"`
	// Share is the CDN's part of the region's new answers, 0..1.
	Share   float64  `json:"share"`
	Signals Readings `json:"signals"`
	// Utilisation is the throughput signal ÷ the commit, as measured;
	// UtilisationNow the same brought forward to now by the split
	// resolvers hold, which is what CapacityFactor (1 = no limit) follows.
	Utilisation    *float64  `json:"utilisation,omitempty"`
	UtilisationNow *float64  `json:"utilisation_now,omitempty"`
	CapacityFactor float64   `json:"capacity_factor"`
	LastChange     time.Time `json:"last_change,omitzero"`
	// Blind: no fresh health signal here since BlindSince; Probation: a
	// degraded CDN blind long enough to be re-admitted at a small share
	// (blind.go).
	Blind      bool      `json:"blind"`
	BlindSince time.Time `json:"blind_since,omitzero"`
	Probation  bool      `json:"probation,omitempty"`
}

// View returns the state as of the last evaluation.
func (e *Engine) View(now time.Time) View { return e.ViewOf(now, nil) }

// ViewOf is View of only the policies keep accepts (every one when keep
// is nil): with a thousand policies the whole view is 120,000 CDNs, and
// a screen showing one policy should not pay for the others.
func (e *Engine) ViewOf(now time.Time, keep func(policy string) bool) View {
	var policies []PolicyView
	var pv PolicyView
	v := e.visit(now, keep, func(_ string, rv *RegionView) {
		r := *rv
		r.CDNs = slices.Clone(rv.CDNs)
		pv.Regions = append(pv.Regions, r)
	}, func(policy string) {
		pv.Name = policy
		policies = append(policies, pv)
		pv = PolicyView{}
	})
	v.Policies = policies
	return v
}

// VisitView is View without every policy held at once, for what folds
// them (the metrics of 1,000 policies took a 60 MB view per scrape):
// it returns the view without its policies and hands fn each policy's
// regions in turn. rv is fn's only during the call; fn must not call the
// engine, which is locked meanwhile.
func (e *Engine) VisitView(now time.Time, fn func(policy string, rv *RegionView)) View {
	return e.visit(now, nil, fn, func(string) {})
}

// visit builds the view's head and each region of the policies keep
// accepts, handing each to region and calling done after each policy.
func (e *Engine) visit(now time.Time, keep func(policy string) bool, region func(policy string, rv *RegionView), done func(policy string)) View {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expireOverrides(now)
	v := View{Time: now, Overrides: []Override{}}
	for _, o := range e.overrides {
		v.Overrides = append(v.Overrides, *o)
	}
	e.indexed()
	var cdns []CDNView
	for pi, p := range e.cfg.Policies {
		if keep != nil && !keep(p.Name) {
			continue
		}
		for ri, r := range e.cfg.Regions {
			rs := e.regionState(p.Name, r)
			rv := RegionView{Name: r, FailedOpen: rs.failedOpen, Stale: !rs.staleSince.IsZero(), StaleSince: rs.staleSince, Reason: rs.reason}
			if rv.TTL, rv.TTLCause = e.regionTTL(pi, ri, now); rv.TTL == 0 {
				rv.TTL = uint32(p.TTL / time.Second)
			}
			live := rs.live
			if live == nil {
				live = p.Baseline[ri]
			}
			sh := shares(live)
			cdns = cdns[:0]
			for ci, cdn := range e.cfg.CDNs {
				st, ld := e.cdnState(p.Name, r, cdn.Name), e.cdnLoad(p.Name, cdn.Name)
				cv := CDNView{Name: cdn.Name, Status: st.status, Weight: Round(live[ci], 3), Baseline: p.Baseline[ri][ci],
					Share: Round(sh[ci], 4), Signals: st.readings, Utilisation: ld.utilised, UtilisationNow: ld.utilNow, CapacityFactor: Round(ld.factor, 4), LastChange: st.lastChange}
				cv.Blind, cv.BlindSince = e.blind(p.Name, r, cdn.Name)
				if b := e.sight.cdns[stateKey{p.Name, r, cdn.Name}]; b != nil {
					cv.Probation = b.probation
				}
				if st.hasScore {
					s := Round(st.score, 1)
					cv.Score = &s
				}
				if e.isDrained(p.Name, r, cdn.Name) {
					cv.Status = Drained
				}
				cdns = append(cdns, cv)
			}
			rv.CDNs = cdns
			region(p.Name, &rv)
		}
		done(p.Name)
	}
	return v
}

// PolicyNames returns the names of the policies, in the view's order.
func (e *Engine) PolicyNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, len(e.cfg.Policies))
	for i, p := range e.cfg.Policies {
		out[i] = p.Name
	}
	return out
}
