package health

// Holds says whether a player already fetching from CDN c should stay
// there rather than follow the rendezvous order: c has weight, is healthy
// (not degraded, recovering or on probation) and the capacity step has
// not cut its share below what its health would give it. A healthy CDN
// whose score sits a little under full marks holds its players: content
// steering must not move a session for a few points of score, only for a
// reason an operator would name.
func (ws *Weights) Holds(c int) bool {
	if c < 0 || c >= len(ws.W) || ws.W[c] <= 0 {
		return false
	}
	return ws.holds == nil || ws.holds[c]
}

// holding marks the CDNs of policy pi's region ri that hold their
// players (Holds). want is the split health gave, share the capacity
// step's plan for it.
func (e *Engine) holding(pi, ri int, want, share []float64) []bool {
	holds := make([]bool, len(e.cfg.CDNs))
	wantTotal, shareTotal := sum(want), sum(share)
	for ci := range e.cfg.CDNs {
		st := e.ix.cdn(pi, ri, ci)
		if st.status != Healthy || st.ramp < 1 {
			continue
		}
		if wantTotal > 0 && shareTotal > 0 && ci < len(share) && ci < len(want) &&
			share[ci]/shareTotal < want[ci]/wantTotal*(1-1e-6) {
			continue // capped: the capacity step moved some of its share away
		}
		holds[ci] = true
	}
	return holds
}
