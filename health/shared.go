package health

import "time"

// A CDN's readings and evidence in a region depend on the store, the
// time, whether the CDN is degraded and two of the policy's parameters
// (signal_max_age, min_samples); its instantaneous score and its gates'
// verdict on those and the rest of the policy's parameters (and, for
// the verdict, whether the CDN is loaded). With a thousand steered names
// under one set of parameters the engine computed the same results a
// thousand times at each evaluation; now the first policy of a class
// computes them and the others read them (index.go says how policies are
// classed). A policy alone in its class computes its own, as before.

// cellEvidence is what one policy's health step has of a CDN in a
// region: the readings and evidence, and where its class keeps the score
// and verdicts (nil: computed for this policy alone).
type cellEvidence struct {
	readings Readings
	ev       *evidence
	shared   *sharedVerdict
}

// readEvidence returns what policy pi reads of CDN ci in region ri at
// now; shrink is false for a degraded CDN (confidence.go).
func (e *Engine) readEvidence(pi, ri, ci int, shrink bool, now time.Time) cellEvidence {
	ix := e.ix
	var out cellEvidence
	if j := ix.jclass[pi]; j >= 0 {
		out.shared = &ix.judged[ix.slot(j, ri, ci, shrink)]
	}
	read := func() (Readings, *evidence) {
		return e.store.evidence(e.cfg.CDNs[ci].Name, e.cfg.Regions[ri], ix.read(ri, ci), ix.read(-1, ci), now, &e.cfg.Policies[pi].Params, shrink, e.parents)
	}
	c := ix.eclass[pi]
	if c < 0 {
		out.readings, out.ev = read()
		return out
	}
	se := &ix.evid[ix.slot(c, ri, ci, shrink)]
	if !se.done {
		se.readings, se.ev = read()
		se.done = true
	}
	out.readings, out.ev = se.readings, se.ev
	return out
}

// score is Score of the readings it counts (players.go).
func (c *cellEvidence) score(p *Params, commitGbps float64) (float64, bool) {
	sv := c.shared
	if sv == nil {
		return Score(c.ev.scoring(c.readings, p), *p, commitGbps)
	}
	if !sv.scored {
		sv.raw, sv.rawOK = Score(c.ev.scoring(c.readings, p), *p, commitGbps)
		sv.scored = true
	}
	return sv.raw, sv.rawOK
}

// judge is judge of the evidence; st's readings must be c's.
func (c *cellEvidence) judge(st *cdnState, p *Params, commitGbps float64, loaded bool) verdict {
	sv := c.shared
	if sv == nil {
		return judge(st, c.ev, *p, commitGbps, loaded)
	}
	l := 0
	if loaded {
		l = 1
	}
	if !sv.judged[l] {
		sv.verdict[l] = judge(st, c.ev, *p, commitGbps, loaded)
		sv.judged[l] = true
	}
	return sv.verdict[l]
}
