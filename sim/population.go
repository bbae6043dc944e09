package sim

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// unitsPerRegion is what a region's viewer shares add up to. Shares are
// integers so that moving a group between CDNs cannot lose or invent a
// viewer through rounding; 2^32 keeps audience × units within int64.
const unitsPerRegion = 1 << 32

// group is the viewers behind one cached answer: a resolver without ECS,
// or one client subnet of a resolver that sends ECS. Viewers are counted,
// never modelled one by one, which keeps a 1.8 M-viewer event cheap.
type group struct {
	key   uint64 // health.SubnetKey of the subnet the answer is for
	units int64  // the group's part of its region's viewers
	// period is the steps a resolver that stretches TTLs keeps an
	// answer; 0 for one that honours the TTL the answer carries.
	period int32
	// picked is the generation of its region's weights its answer was
	// picked from (see population.gen).
	picked int32
	region int16
	cdn    int16 // the CDN of the answer it holds
}

// population is every group, scheduled on a timing wheel by the step of
// their next re-resolution, and how many units each CDN holds per region.
type population struct {
	sc     *Scenario
	groups []group
	wheel  [][]int32
	// answers is region × CDN: the units whose cached answer is the CDN;
	// units the units whose viewers are on it. They are the same slices
	// unless some players stay where they are when the answer changes
	// (sticky).
	answers [][]int64
	units   [][]int64
	sticky  *stickiness
	// steer, when some players use content steering, moves them; then
	// placed is where the viewers would be if none did, and units mixes
	// it with where steering put them. Otherwise placed is units.
	steer  *steerers
	placed [][]int64
	// stretching counts the groups whose resolver stretches TTLs.
	stretching int
	// ttl is the steps a region's answers are kept for, from the TTL the
	// weights they are picked with carry; policyTTL when they carry none.
	ttl       []int32
	policyTTL int32
	// gen counts the changes of each region's weights, and last holds
	// the weights it counted: a group whose answer was picked from
	// weights of the current generation would get the same answer again,
	// and is not asked. The engine publishes new weights at every
	// evaluation, mostly the same as before.
	gen  []int32
	last []*health.Weights
	// switched counts the viewers that moved with their group's answer.
	switched float64
}

// newPopulation builds the resolvers and subnets of every region from the
// scenario and the seed, and gives each its first answer from the
// baseline. The seed decides resolver sizes, which resolvers send ECS or
// stretch TTLs, the subnet addresses (hence the hash draws) and when each
// cache expires.
func newPopulation(sc *Scenario, baseline []*health.Weights) *population {
	rng := rand.New(rand.NewPCG(uint64(sc.Seed), 0x9e3779b97f4a7c15))
	nC := len(sc.CDNs)
	p := &population{sc: sc, units: make([][]int64, len(sc.Regions)), ttl: make([]int32, len(sc.Regions)),
		gen: make([]int32, len(sc.Regions)), last: append([]*health.Weights(nil), baseline...)}
	p.policyTTL = steps(sc.Policy.TTL, sc.Step)
	// Addresses start at a seed-dependent /24 so that another seed gives
	// other hash draws, as another event's audience would.
	next := uint32(rng.Uint64()) &^ 0xff
	addr := func() netip.Addr {
		a := next
		next += 0x100
		return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), 0})
	}
	// The wheel must hold the longest TTL the engine can give an
	// answer, so that a re-resolution never wraps past its slot.
	maxPeriod := steps(maxTTL(sc), sc.Step)
	for ri, r := range sc.Regions {
		p.units[ri] = make([]int64, nC)
		if r.Share == 0 {
			continue
		}
		sizes := zipf(r.Resolvers, r.ResolverSkew)
		ecs := chosen(rng, r.Resolvers, r.ECSShare)
		stretch := chosen(rng, r.Resolvers, r.StretchShare)
		stretchTTL := steps(r.StretchTTL, sc.Step)
		first := len(p.groups)
		var weights []float64
		for i := 0; i < r.Resolvers; i++ {
			period := int32(0)
			if stretch[i] {
				period = stretchTTL
				maxPeriod = max(maxPeriod, period)
			}
			subnets := 1
			if ecs[i] {
				subnets = r.ECSSubnets
			}
			for s := 0; s < subnets; s++ {
				p.groups = append(p.groups, group{key: health.SubnetKey(addr()), period: period, region: int16(ri)})
				weights = append(weights, sizes[i]/float64(subnets))
				if stretch[i] {
					p.stretching++
				}
			}
		}
		units := make([]int64, len(weights))
		apportion(unitsPerRegion, weights, units)
		for i, u := range units {
			g := &p.groups[first+i]
			g.units = u
			g.cdn = int16(baseline[ri].Pick(g.key))
			p.units[ri][g.cdn] += u
		}
	}
	p.answers = p.units
	if sc.Players.sticky() {
		p.sticky = newStickiness(sc, len(p.groups))
		p.answers = make([][]int64, len(p.units))
		for ri := range p.units {
			p.answers[ri] = append([]int64(nil), p.units[ri]...)
		}
	}
	p.placed = p.units
	if sc.Players.SteeringShare > 0 {
		p.steer = newSteerers(sc, p.groups, p.units)
		p.units = make([][]int64, len(p.placed))
		for ri := range p.placed {
			p.units[ri] = append([]int64(nil), p.placed[ri]...)
		}
	}
	p.wheel = make([][]int32, maxPeriod+1)
	p.ttlAtStart(len(p.wheel))
	for i := range p.groups {
		g := &p.groups[i]
		// Caches were filled at different times: spread the first expiry
		// over the TTL so that re-resolutions do not come in lockstep.
		at := rng.Int32N(max(g.period, p.ttl[g.region]))
		p.wheel[at] = append(p.wheel[at], int32(i))
	}
	return p
}

// resolve re-resolves the groups whose answers expire at step k, with the
// live weights of their regions, and reschedules them; prev is the
// previous step, whose failures make sticky players reload.
func (p *population) resolve(k int64, weights []*health.Weights, prev *Step) {
	if p.sticky != nil {
		p.sticky.advance(p.sc, k, prev)
	}
	// Steering players leave their group's DNS-only share to the rest.
	follow := p.sc.Players.FollowDNS * (1 - p.sc.Players.SteeringShare)
	var audience float64 // at step k, read when a group first moves
	n := int64(len(p.wheel))
	p.setTTL(weights, n)
	for ri, w := range weights {
		if w != p.last[ri] && !slices.Equal(w.W, p.last[ri].W) {
			p.gen[ri]++
		}
		p.last[ri] = w
	}
	slot := k % n
	due := p.wheel[slot]
	for _, i := range due {
		g := &p.groups[i]
		// The weights its answer came from would give it again.
		if g.picked != p.gen[g.region] {
			g.picked = p.gen[g.region]
			if c := int16(weights[g.region].Pick(g.key)); c >= 0 && c != g.cdn {
				if audience == 0 {
					audience = p.sc.Curve.At(time.Duration(k) * p.sc.Step)
				}
				p.switched += follow * audience * p.sc.Regions[g.region].Share * float64(g.units) / unitsPerRegion
				if p.sticky != nil {
					p.sticky.move(i, g, g.cdn, c, k)
				}
				p.answers[g.region][g.cdn] -= g.units
				p.answers[g.region][c] += g.units
				g.cdn = c
			}
		}
		// The answer is kept for the TTL it was given with: a TTL
		// lowered later does not shorten what a resolver already holds.
		// A resolver that stretches TTLs keeps it at least as long as
		// the TTL says.
		nextSlot := (k + int64(max(g.period, p.ttl[g.region]))) % n
		p.wheel[nextSlot] = append(p.wheel[nextSlot], i)
	}
	p.wheel[slot] = due[:0]
	if p.sticky != nil {
		p.sticky.place(p.answers, p.placed)
	}
	if p.steer != nil {
		p.steer.ask(p, k, weights)
		p.steer.mix(p.placed, p.units)
	}
}

// viewerSwitches is how many times a viewer moved from one CDN to
// another so far.
func (p *population) viewerSwitches() float64 {
	n := p.switched
	if p.sticky != nil {
		n += p.sticky.switched
	}
	if p.steer != nil {
		n += p.steer.switched
	}
	return n
}

// steps is how many simulation steps d lasts, at least one: a TTL of 0
// makes a resolver ask again at every step.
func steps(d, step time.Duration) int32 {
	return int32(max(1, (d+step-1)/step))
}

// zipf returns n sizes following a Zipf law of exponent s.
func zipf(n int, s float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = 1 / math.Pow(float64(i+1), s)
	}
	return out
}

// chosen marks round(n × share) of n items, picked at random.
func chosen(rng *rand.Rand, n int, share float64) []bool {
	out := make([]bool, n)
	for _, i := range rng.Perm(n)[:int(math.Round(float64(n)*share))] {
		out[i] = true
	}
	return out
}

// setTTL takes each region's TTL from the weights its answers are
// picked with.
func (p *population) setTTL(weights []*health.Weights, wheel int64) {
	for ri, w := range weights {
		p.ttl[ri] = p.policyTTL
		if w.TTL > 0 {
			p.ttl[ri] = min(steps(time.Duration(w.TTL)*time.Second, p.sc.Step), int32(wheel-1))
		}
	}
}

// ttlAtStart sets the TTL the answers cached before the start were given
// with: a schedule's when its window was already in force. The engine
// says which, from a fresh state (every CDN healthy, so no ttl_in_flux).
func (p *population) ttlAtStart(wheel int) {
	sc := p.sc
	t := health.NewEngine(sc.Policy.Config, nil).Evaluate(sc.Start)
	weights := make([]*health.Weights, len(sc.Regions))
	for ri := range weights {
		if weights[ri] = t.Get(sc.Policy.Index, ri); weights[ri] == nil {
			weights[ri] = &health.Weights{}
		}
	}
	p.setTTL(weights, int64(wheel))
}

// maxTTL is the longest TTL an answer of the scenario's policy can
// carry: the policy's own, a schedule's or ttl_in_flux.
func maxTTL(sc *Scenario) time.Duration {
	cfg := &sc.Policy.Config
	ttl := sc.Policy.TTL
	for _, s := range cfg.Schedules {
		ttl = max(ttl, s.TTL)
	}
	if pi := sc.Policy.Index; pi >= 0 && pi < len(cfg.Policies) {
		ttl = max(ttl, cfg.Policies[pi].TTLInFlux)
	}
	return ttl
}
