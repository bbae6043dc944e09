package health

import (
	"math"
	"sort"
)

// Weights scaled by a factor and renormalised are relative: a CDN cut to
// 2 % of its weight still takes a whole region whose other CDNs are out,
// and the share a full CDN sheds lands on the others in proportion to
// their weights, however full they are. The allocation below works in
// absolute shares of each region's traffic instead, against each CDN's
// headroom in Gbit/s:
//
//  1. every CDN gets its health share (baseline × score among the CDNs
//     that pass their gates), no more than its cap: 0 when degraded or
//     drained, ramp × its baseline share while recovering;
//  2. a CDN whose load would pass capacity_soft of its commit (in all, or
//     in a region with a commit of its own) is cut to it, and what it
//     sheds goes to the CDNs with room left, in proportion to their
//     health shares;
//  3. what still does not fit goes to the CDNs that pass their gates, up
//     to capacity_hard;
//  4. what is left spills to the least bad CDN: those that pass their
//     gates first, then the others by their last known score, each up
//     to capacity_hard, the last remainder to the best of them. Handing
//     traffic to a CDN failing its gates is failing open.
//
// The load of a CDN is the demand of each region (the throughput every
// CDN delivers there) times its share, for the part of the viewers that
// follows DNS (follow_share), plus the traffic the others keep on it.

// allocation is one policy's inputs to the split, by region and CDN.
type allocation struct {
	demand []float64   // Gbit/s per region; 0: unknown or none
	want   [][]float64 // health shares per region (sum 1, or 0 when no CDN passes)
	capH   [][]float64 // health caps on share
	gated  [][]bool    // failing its gates (degraded): fail-open only
	rank   [][]float64 // last known score; -1: never (drained)
	base   [][]float64 // baseline shares
	stuck  [][]float64 // Gbit/s that stays whatever the answer
	// gain is the traffic a CDN draws per share of a region's demand:
	// 1 with many small resolvers, off where a few big ones answer
	// for many viewers; nil: 1.
	gain   [][]float64
	follow float64

	soft, hard   []float64   // per CDN, Gbit/s; +Inf: no commit
	softR, hardR [][]float64 // per region and CDN, Gbit/s; +Inf: none
}

// allocated is the result: the shares, and the regions that failed open.
type allocated struct {
	share    [][]float64
	failOpen []bool
}

const allocEpsilon = 1e-9

// gatedTie is how close (in score points) CDNs failing their gates count
// as failing alike.
const gatedTie = 5.0

// allocate computes the ideal split: steps 1 to 4 above.
func (a *allocation) allocate() allocated {
	nR := len(a.want)
	out := allocated{share: shaped[float64](a.want), failOpen: make([]bool, nR)}
	for r := range nR {
		s := out.share[r]
		for c := range s {
			s[c] = math.Min(a.want[r][c], a.capH[r][c])
		}
	}
	healthy := func(r, c int) bool { return a.want[r][c] > 0 && a.capH[r][c] > 0 && !a.gated[r][c] }
	a.fill(out.share, a.soft, a.softR, healthy)
	a.fill(out.share, a.hard, a.hardR, healthy)
	for r := range nR {
		out.failOpen[r] = a.spill(out.share, r)
	}
	return out
}

// loads is every CDN's load in all under s.
func (a *allocation) loads(s [][]float64) []float64 {
	return a.loadsInto(make([]float64, len(a.soft)), s)
}

// loadsInto is loads written into out (len(a.soft) long).
func (a *allocation) loadsInto(out []float64, s [][]float64) []float64 {
	clear(out)
	for r := range s {
		for c, v := range s[r] {
			out[c] += a.regionLoad(s, r, c, v)
		}
	}
	return out
}

// loadOf is loads(s)[c], summed in the same order.
func (a *allocation) loadOf(s [][]float64, c int) float64 {
	out := 0.0
	for r := range s {
		out += a.regionLoad(s, r, c, s[r][c])
	}
	return out
}

func (a *allocation) regionLoad(_ [][]float64, r, c int, share float64) float64 {
	return a.follow*a.demand[r]*a.gainOf(r, c)*share + a.stuck[r][c]
}

func (a *allocation) gainOf(r, c int) float64 {
	if a.gain == nil {
		return 1
	}
	return a.gain[r][c]
}

// fill cuts every CDN to its allowance and hands what it shed to the
// receivers with room, in proportion to their health shares, until
// nothing moves. A CDN once cut receives nothing more. Bounded: each
// round either marks a CDN full or leaves nothing to hand out.
func (a *allocation) fill(s [][]float64, allow []float64, allowR [][]float64, receives func(r, c int) bool) {
	nC := len(allow)
	full := make([]bool, nC)
	fullR := matrix[bool](len(s), nC)
	load, pull := make([]float64, nC), make([]float64, nC)
	for range 4 * (nC + 1) * (len(s) + 1) {
		a.loadsInto(load, s)
		for c := range nC {
			if load[c] <= allow[c]*(1+allocEpsilon) {
				continue
			}
			full[c] = true
			stuck := 0.0
			for r := range s {
				stuck += a.stuck[r][c]
			}
			k := 0.0
			if moving := load[c] - stuck; moving > 0 {
				k = math.Max(0, (allow[c]-stuck)/moving)
			}
			for r := range s {
				s[r][c] *= k
			}
		}
		for r := range s {
			for c := range nC {
				if a.regionLoad(s, r, c, s[r][c]) > allowR[r][c]*(1+allocEpsilon) {
					fullR[r][c] = true
					s[r][c] = a.shareFor(r, c, allowR[r][c])
				}
			}
		}
		moved := false
		for r := range s {
			free := 1 - sum(s[r])
			if free <= allocEpsilon {
				continue
			}
			// Receivers take in proportion to their health shares and
			// to the room they have left: the shed load goes mostly
			// where it fits best, not onto the next CDN near its limit.
			clear(pull)
			var weight float64
			for c := range nC {
				if receives(r, c) && !full[c] && !fullR[r][c] && s[r][c] < a.capH[r][c] {
					pull[c] = a.want[r][c] * room(allow[c], load[c]) * room(allowR[r][c], a.regionLoad(s, r, c, s[r][c]))
					weight += pull[c]
				}
			}
			if weight == 0 {
				continue
			}
			for c := range nC {
				if pull[c] == 0 {
					continue
				}
				add := math.Min(free*pull[c]/weight, a.capH[r][c]-s[r][c])
				add = math.Min(add, math.Max(0, a.shareFor(r, c, allowR[r][c])-s[r][c]))
				if add > allocEpsilon {
					s[r][c] += add
					moved = true
				}
			}
		}
		if !moved {
			// The last round may have pushed a CDN past its allowance:
			// one more round cuts it (and hands on), unless none is.
			over := false
			for c, l := range a.loadsInto(load, s) {
				over = over || l > allow[c]*(1+allocEpsilon)
			}
			if !over {
				return
			}
		}
	}
}

// shareFor is the share of region r that puts load l on CDN c there
// (+Inf when the region's demand is unknown: no share is too much).
func (a *allocation) shareFor(r, c int, l float64) float64 {
	if math.IsInf(l, 1) {
		return math.Inf(1)
	}
	moving := a.follow * a.demand[r] * a.gainOf(r, c)
	if moving <= 0 {
		return math.Inf(1)
	}
	return math.Max(0, (l-a.stuck[r][c])/moving)
}

// spill hands what is left of region r to the least bad CDNs, each up
// to its room under capacity_hard, and reports whether any of it went to
// one failing its gates. In order: the CDNs passing their gates, within
// their caps (a recovering CDN's ramp); those failing them, best last
// known score first; the recovering past their ramps (better than
// overloading anyone); and, when nobody has room, the best of them all.
func (a *allocation) spill(s [][]float64, r int) bool {
	free := 1 - sum(s[r])
	if free <= allocEpsilon {
		return false
	}
	var order []int
	for c := range s[r] {
		if a.rank[r][c] >= 0 {
			order = append(order, c)
		}
	}
	if len(order) == 0 {
		return false
	}
	sort.SliceStable(order, func(i, j int) bool {
		ci, cj := order[i], order[j]
		if a.gated[r][ci] != a.gated[r][cj] {
			return !a.gated[r][ci]
		}
		return a.rank[r][ci] > a.rank[r][cj]
	})
	failOpen := false
	give := func(c int, capped bool) {
		room := a.shareFor(r, c, a.hardR[r][c]) - s[r][c]
		room = math.Min(room, a.shareFor(r, c, a.hard[c]-a.loadOf(s, c)+a.regionLoad(s, r, c, s[r][c]))-s[r][c])
		if capped {
			room = math.Min(room, a.capH[r][c]-s[r][c])
		}
		if add := math.Min(free, math.Max(0, room)); add > allocEpsilon {
			s[r][c] += add
			free -= add
			failOpen = failOpen || a.gated[r][c]
		}
	}
	for _, c := range order {
		if !a.gated[r][c] && free > allocEpsilon {
			give(c, true)
		}
	}
	// CDNs failing their gates about as badly as the best of them (an
	// origin failing under every CDN) share in their baseline
	// proportions rather than one taking all; worse ones come after.
	var group []int
	for _, c := range order {
		if a.gated[r][c] && (len(group) == 0 || a.rank[r][c] >= a.rank[r][group[0]]-gatedTie) {
			group = append(group, c)
		}
	}
	if free > allocEpsilon && len(group) > 0 {
		var bs float64
		for _, c := range group {
			bs += a.base[r][c]
		}
		total := free
		for _, c := range group {
			k := 1 / float64(len(group))
			if bs > 0 {
				k = a.base[r][c] / bs
			}
			f := free
			free = total * k
			give(c, false)
			free = f - (total*k - free)
		}
	}
	for _, pass := range []struct{ gated, capped bool }{{true, false}, {false, false}} {
		for _, c := range order {
			if a.gated[r][c] == pass.gated && free > allocEpsilon {
				give(c, pass.capped)
			}
		}
	}
	if free > allocEpsilon {
		s[r][order[0]] += free
		failOpen = failOpen || a.gated[r][order[0]]
	}
	return failOpen
}

// room is the part of an allowance a load leaves free, 0..1; 1 for no
// allowance at all.
func room(allow, load float64) float64 {
	if math.IsInf(allow, 1) || !(allow > 0) {
		return 1
	}
	return math.Max(0, math.Min(1, (allow-load)/allow))
}
