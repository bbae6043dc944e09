package health

import (
	"math"
	"time"
)

// The plan takes a CDN's load in a region as the region's demand times
// its share, as if answers spread viewers evenly. They do not: a
// resolver's cached answer moves its viewers in a lump, so a CDN given
// 22 % of a region by weight may carry 30 % of it, and players that keep
// their CDN for the session stay whatever it is given. Planned against
// its share alone such a CDN sits past its commit while the plan says it
// is within it (Fastly at 123 % of its commit from the first second of
// the blind-zero rehearsal, degraded on the errors of the load and back
// again a dozen times). What the plan must not do is read its own lag
// back as load: a throughput measured now answers splits given up to a
// TTL plus the telemetry's age ago.

// gainMax bounds a gain: past it the measurement is more likely wrong
// than the lumps that large. It is high because players that keep their
// CDN for the session look like a gain too: a CDN given 11 % of a region
// can carry 28 % of it, and only a share cut toward 0 moves the few
// that follow DNS.
const gainMax = 8.0

// gainWobble is how much more than its share explains a CDN may carry
// and count as the lumps' ordinary wobble, which moves nobody: below it,
// acting on the excess moved more viewers in the football match for no
// fewer impaired; a lump that lands (37 % more in the blind-zero
// rehearsal) is well past it.
const gainWobble = 0.15

// gainMinShare is the smallest share a gain is learned from: a few
// viewers on a probation share say nothing of the lumps at full share.
const gainMinShare = 0.02

// learnGains is, per region and CDN, what a CDN measurably draws per
// share of the region's demand, where that is more than the share
// explains and the CDN is at or past capacity_soft − capacity_dead_band
// of its commit by measurement (in all, or in a region with a commit of
// its own): a lump that lands on a CDN near its limit cannot wait for
// the dead band's edge, the errors of the load come first; 1 elsewhere.
// Measured against the most it was given over the last TTL plus the
// telemetry's age, lag cannot inflate it: a CDN just cut still carries
// what its earlier share sent, which is no gain. Never below 1: a
// reading that is low (frozen) or a demand read short moves nobody
// toward a CDN. Taken afresh from each fresh throughput, it is gone once
// the lump has gone; while the throughput is not fresh (a stalled
// counter, a feed stopped) the last one holds, as the throughput does.
func (e *Engine) learnGains(pi int, a *allocation, d demand, now time.Time) [][]float64 {
	p := &e.cfg.Policies[pi].Params
	out := matrix[float64](len(e.cfg.Regions), len(e.cfg.CDNs))
	for r, region := range e.cfg.Regions {
		cs := e.ix.capacity(pi, r)
		for c := range e.cfg.CDNs {
			out[r][c] = 1
			loaded := e.ix.load(pi, c).at(region)
			if len(cs.gainHeld) != len(out[r]) {
				cs.gainHeld = append([]float64(nil), out[r]...)
			}
			if !e.throughputFresh(r, c, p, now) {
				// Its load unseen, the lumps last seen still stand, as
				// its throughput does (measureDemand).
				out[r][c] = cs.gainHeld[c]
				continue
			}
			if loaded && d.region[r] > 0 {
				if hi := cs.mostGiven(c); hi >= gainMinShare {
					g := (d.measured[r][c] - a.stuck[r][c]) / (a.follow * d.region[r] * hi)
					if g > 1+gainWobble {
						out[r][c] = math.Min(gainMax, g)
					}
				}
			}
			cs.gainHeld[c] = out[r][c]
		}
	}
	return out
}

// throughputFresh reports whether the CDN's throughput in region is
// fresh: a held value stands for the split it was measured under, not
// the one in force.
func (e *Engine) throughputFresh(r, c int, p *Params, now time.Time) bool {
	rd := e.ix.read(r, c)
	return rd != nil && !rd[Throughput].t.IsZero() && now.Sub(rd[Throughput].t) <= p.SignalMaxAge
}
