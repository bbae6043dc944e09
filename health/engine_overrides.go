package health

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// AddOverride validates o against the policy, fills its ID, creation time
// and (for a freeze) the split to hold, and puts it in force.
func (e *Engine) AddOverride(o Override, now time.Time) (Override, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := o.validate(&e.cfg, now); err != nil {
		return Override{}, err
	}
	o = e.putOverride(o, now)
	// In the fleet's order (ApplyOverride), even when a peer's clock put
	// one of its overrides ahead of this one.
	slices.SortStableFunc(e.overrides, func(a, b *Override) int {
		if overrideBefore(a, b) {
			return -1
		}
		if overrideBefore(b, a) {
			return 1
		}
		return 0
	})
	return o, nil
}

// frozenSplit is, for a freeze, the split to hold: policy → region → CDN
// → weight, as it stands now where the freeze applies.
func (e *Engine) frozenSplit(o *Override) map[string]map[string]map[string]float64 {
	frozen := map[string]map[string]map[string]float64{}
	for _, p := range e.cfg.Policies {
		for ri, r := range e.cfg.Regions {
			if !o.Applies(p.Name, r) {
				continue
			}
			rs := e.regionState(p.Name, r)
			live := rs.live
			if live == nil {
				live = p.Baseline[ri]
			}
			if frozen[p.Name] == nil {
				frozen[p.Name] = map[string]map[string]float64{}
			}
			m := map[string]float64{}
			for ci, cdn := range e.cfg.CDNs {
				m[cdn.Name] = live[ci]
			}
			frozen[p.Name][r] = m
		}
	}
	return frozen
}

// DeleteOverride ends an override before its expiry.
func (e *Engine) DeleteOverride(id string, now time.Time, reason string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range e.overrides {
		if o.ID == id {
			e.endOverride(o, now, reason)
			return nil
		}
	}
	return ErrNotFound
}

// Overrides returns the overrides in force, oldest first.
func (e *Engine) Overrides(now time.Time) []Override {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.expireOverrides(now)
	out := make([]Override, len(e.overrides))
	for i, o := range e.overrides {
		out[i] = *o
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

func (e *Engine) endOverride(o *Override, now time.Time, reason string) {
	for i, x := range e.overrides {
		if x == o {
			e.overrides = append(e.overrides[:i], e.overrides[i+1:]...)
			break
		}
	}
	e.journal.Record(Decision{Time: now, Kind: DecisionOverrideEnd, Policy: o.Policy, Region: o.Region, CDN: o.CDN,
		Reason: fmt.Sprintf("%s %s ended: %s", o.Action, o.ID, reason), Override: o})
}

func (e *Engine) expireOverrides(now time.Time) {
	for _, o := range append([]*Override(nil), e.overrides...) {
		if !o.Expires.After(now) {
			e.endOverride(o, now, "expired")
		}
	}
}

// applyOverrides applies pins, freezes and drains to a region's computed
// split, in that order of precedence; it returns the cause for the log.
func (e *Engine) applyOverrides(policy, region string, live, base []float64) ([]float64, string) {
	for _, o := range e.overrides {
		if o.Action == ActionPin && o.Applies(policy, region) {
			out := make([]float64, len(live))
			out[e.cfg.CDNIndex(o.CDN)] = 1
			return out, "pinned to " + o.CDN
		}
	}
	for _, o := range e.overrides {
		if o.Action != ActionFreeze || !o.Applies(policy, region) {
			continue
		}
		if m := o.Frozen[policy][region]; m != nil {
			out := make([]float64, len(live))
			for ci, cdn := range e.cfg.CDNs {
				out[ci] = m[cdn.Name]
			}
			return e.drained(policy, region, out), "frozen"
		}
	}
	out := e.drained(policy, region, append([]float64(nil), live...))
	for i := range out {
		if out[i] != live[i] {
			return out, "drained by an operator"
		}
	}
	return out, ""
}

// drained zeroes the weight of every CDN drained in this policy and region.
func (e *Engine) drained(policy, region string, w []float64) []float64 {
	for _, o := range e.overrides {
		if o.Action == ActionDrain && o.Applies(policy, region) {
			if ci := e.cfg.CDNIndex(o.CDN); ci >= 0 {
				w[ci] = 0
			}
		}
	}
	return w
}

// isDrained tells whether an operator drained cdn here.
func (e *Engine) isDrained(policy, region, cdn string) bool {
	for _, o := range e.overrides {
		if o.Action == ActionDrain && o.CDN == cdn && o.Applies(policy, region) {
			return true
		}
	}
	return false
}

// ApplyOverride puts in force an override written on another instance of
// the fleet, keeping its ID, creation time, expiry and (for a freeze) the
// split it holds, so that every instance holds the same override. It is
// placed among the others by creation time, then ID: which pin or freeze
// of a region wins is then the same on every instance, whatever order the
// overrides arrived in. Applying one already in force changes nothing and
// reports false; one that does not fit this policy is an error.
func (e *Engine) ApplyOverride(o Override, now time.Time) (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o.ID == "" {
		return false, fmt.Errorf("override without an id")
	}
	for _, x := range e.overrides {
		if x.ID == o.ID {
			return false, nil
		}
	}
	if err := o.validate(&e.cfg, now); err != nil {
		return false, err
	}
	if o.Action == ActionFreeze && o.Frozen == nil {
		// A freeze without its split would hold every CDN at zero.
		o.Frozen = e.frozenSplit(&o)
	}
	i := sort.Search(len(e.overrides), func(i int) bool { return overrideBefore(&o, e.overrides[i]) })
	e.overrides = slices.Insert(e.overrides, i, &o)
	e.journal.Record(Decision{Time: now, Kind: DecisionOverride, Policy: o.Policy, Region: o.Region, CDN: o.CDN,
		Reason: fmt.Sprintf("%s until %s (from %s): %s", o.Action, o.Expires.UTC().Format(time.RFC3339), o.Origin, o.Reason), Override: &o})
	return true, nil
}

// overrideBefore orders overrides by creation time, then ID.
func overrideBefore(a, b *Override) bool {
	if c := a.Created.Compare(b.Created); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// EndAppliedOverride ends an override because another instance of the
// fleet ended it; it reports whether one was in force here.
func (e *Engine) EndAppliedOverride(id string, now time.Time, reason string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, o := range e.overrides {
		if o.ID == id {
			e.endOverride(o, now, reason)
			return true
		}
	}
	return false
}

// RegionPreview is one region's split before and after a proposed
// override: CDN → share of new answers, 0..1.
type RegionPreview struct {
	Policy string             `json:"policy"`
	Region string             `json:"region"`
	Before map[string]float64 `json:"before"`
	After  map[string]float64 `json:"after"`
	// FailOpen: the override leaves no CDN, so the region would serve
	// its baseline (minus the drains).
	FailOpen bool `json:"fail_open,omitempty"`
}

// PreviewOverride answers the split each region the override acts on
// would publish with it in force, changing nothing: the override goes
// through the same validation and the same pin, freeze and drain steps as
// at the next evaluation, on a copy of the overrides and of the split last
// published. The scores and the capacity step's smoothing are taken as
// they stand: they move no faster than the evaluation after the action.
func (e *Engine) PreviewOverride(o Override, now time.Time) ([]RegionPreview, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := o.validate(&e.cfg, now); err != nil {
		return nil, err
	}
	// The copy is what applyOverrides reads; the engine's own list is put
	// back before the lock is released.
	saved := e.overrides
	defer func() { e.overrides = saved }()
	cand := o
	if cand.Action == ActionFreeze {
		cand.Frozen = e.frozenSplit(&cand)
	}
	e.overrides = append(slices.Clone(saved), &cand)
	var out []RegionPreview
	for _, p := range e.cfg.Policies {
		for ri, r := range e.cfg.Regions {
			if !o.Applies(p.Name, r) {
				continue
			}
			base := p.Baseline[ri]
			live := e.regionState(p.Name, r).live
			if live == nil {
				live = base
			}
			// The split before the overrides: what the scores and the
			// capacity step give. A drain or pin in force already shows
			// in live; applying them again changes nothing.
			after, _ := e.applyOverrides(p.Name, r, slices.Clone(live), base)
			rp := RegionPreview{Policy: p.Name, Region: r, Before: e.shareMap(live), After: map[string]float64{}}
			if sum(after) == 0 {
				rp.FailOpen = true
				after = e.drained(p.Name, r, slices.Clone(base))
				if sum(after) == 0 {
					after = slices.Clone(base)
				}
			}
			rp.After = e.shareMap(after)
			out = append(out, rp)
		}
	}
	return out, nil
}

// shareMap is a split as CDN → share, rounded as the view rounds it.
func (e *Engine) shareMap(w []float64) map[string]float64 {
	m := map[string]float64{}
	for ci, s := range shares(w) {
		m[e.cfg.CDNs[ci].Name] = Round(s, 4)
	}
	return m
}
