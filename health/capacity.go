package health

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// The capacity controller. Scaling a CDN's weight by a factor that
// follows its measured utilisation is a feedback loop with two delays (a
// weight change reaches the traffic only as cached answers expire, and
// the throughput that shows it arrives later still): late measurements
// made it cut the same traffic again and again, then give it all back —
// a CDN swung from 68 % to 98 % of its commit with a 60 s period, and
// with throughput 30 s late every CDN swung to its ceiling.
//
// What the controller uses instead does not depend on the split: each
// region's demand, the throughput all CDNs deliver there together. A
// late demand is only as wrong as the audience moved meanwhile (a few
// per cent at a kick-off), not by the engine's own last moves. The split
// is then planned against each CDN's commit (allocate.go): feed-forward,
// not feedback. On top of that plan:
//   - a dead band: the split in force is kept while every CDN's load under
//     it stays within capacity_dead_band of capacity_soft (and one held
//     below its health share is not far under it), so demand's wobbles
//     move nobody;
//   - a rate limit: no CDN's share moves by more than capacity_max_move
//     of itself per TTL for capacity alone (health moves at once);
//   - follow_share: only that part of a CDN's viewers follows a new
//     answer within a TTL (players keep their connection for the
//     session); the rest of what it carries stays where it is.

// cdnLoad is one CDN's load as one policy judges it.
type cdnLoad struct {
	// factor is the part of its health share the CDN is given, in
	// Gbit/s over all regions: 1 is no limit.
	factor   float64
	utilised *float64 // measured throughput ÷ commit
	utilNow  *float64 // planned load under the split given ÷ commit
	// loaded says the CDN is at or near capacity_soft of its commit, by
	// measurement or plan: what it shows then may be load, not ill
	// health. loadedIn says the same of a region with a commit of its
	// own.
	loaded   bool
	loadedIn map[string]bool
}

func newCDNLoad() *cdnLoad { return &cdnLoad{factor: 1} }

// loadedAt reports whether a CDN is at or near its capacity in a region
// (its commit in all, or its regional commit there): a rise in TTFB or
// a fall in cache hits then is the capacity controller's to handle, not
// a reason to degrade it.
func (e *Engine) loadedAt(policy, region, cdn string) bool {
	return e.loads[cdnKey{policy, cdn}].at(region)
}

// at is loadedAt of the CDN whose load ld is (nil: never measured).
func (ld *cdnLoad) at(region string) bool {
	return ld != nil && (ld.loaded || ld.loadedIn[region])
}

// blindAllowanceCut is how much of a CDN's allowance is cut once its load
// has been unknown for static_drift: half, what capacity_soft..hard gives
// halfway to the commit's ceiling; the longer the engine cannot see a
// CDN's load, the less it leans on it.
const blindAllowanceCut = 0.5

// demand is what the capacity step measured of one policy's traffic.
type demand struct {
	region   []float64   // Gbit/s per region
	measured [][]float64 // Gbit/s per region and CDN
	total    []float64   // Gbit/s per CDN; NaN: not measured
	known    bool        // some throughput is fresh
	reports  []bool      // per CDN: its throughput is known (or held)
	// blind is how far each CDN's allowance is cut for not seeing its
	// load (0: seen now).
	blind []float64
}

// measureDemand reads the throughput every CDN delivers, per region where
// the telemetry gives it. A CDN that reports only its total has it split
// over the regions it lacks in proportion to the requests behind its
// other signals there: its viewers, with the bitrates taken as equal.
func (e *Engine) measureDemand(pi int, now time.Time) demand {
	pol, ix := &e.cfg.Policies[pi], e.ix
	p := &pol.Params
	nR, nC := len(e.cfg.Regions), len(e.cfg.CDNs)
	d := ix.scratchDemand(nR, nC)
	reports := d.reports
	if e.capacity.held == nil {
		e.capacity.held = map[storeKey]*heldGbps{}
	}
	// A throughput that is not fresh (a feed stopped, a stalled counter
	// dropped) holds its last value: the demand it stands for does not
	// vanish with the feed. Its CDN's allowance shrinks meanwhile, to
	// half over static_drift (blindness).
	// r is a region's index, -1 for all regions.
	fresh := func(r, c int) (float64, bool) {
		slot := (r+1)*nC + c
		if rd := ix.reads[slot]; rd != nil && !rd[Throughput].t.IsZero() && now.Sub(rd[Throughput].t) <= p.SignalMaxAge {
			if h := ix.held[slot]; h != nil {
				*h = heldGbps{rd[Throughput].v, now}
			} else {
				region := ""
				if r >= 0 {
					region = e.cfg.Regions[r]
				}
				ix.held[slot] = &heldGbps{rd[Throughput].v, now}
				e.capacity.held[storeKey{e.cfg.CDNs[c].Name, region}] = ix.held[slot]
			}
			return rd[Throughput].v, true
		}
		if h := ix.held[slot]; h != nil {
			return h.v, true
		}
		return 0, false
	}
	missing := ix.missing[:nR]
	for c := range e.cfg.CDNs {
		d.total[c] = math.NaN()
		var attributed, weight float64
		clear(missing)
		for r := range e.cfg.Regions {
			if v, ok := fresh(r, c); ok {
				d.measured[r][c] = v
				attributed += v
				d.known, reports[c] = true, true
				continue
			}
			missing[r] = e.requests(r, c, p, now)
			weight += missing[r]
		}
		total, ok := fresh(-1, c)
		if !ok {
			if attributed > 0 {
				d.total[c] = attributed
			}
			continue
		}
		d.known, reports[c] = true, true
		d.total[c] = math.Max(total, attributed)
		if weight == 0 {
			// Not even sample counts by region: the CDN's share of each
			// region it lacks, as if the regions' demands were alike.
			for r := range e.cfg.Regions {
				if missing[r] = 0; d.measured[r][c] == 0 {
					missing[r] = e.splitOf(pi, r)[c]
					weight += missing[r]
				}
			}
		}
		if rest := total - attributed; rest > 0 && weight > 0 {
			for r := range nR {
				d.measured[r][c] += rest * missing[r] / weight
			}
		}
	}
	for r := range e.cfg.Regions {
		d.region[r] = sum(d.measured[r])
		// CDNs that report no throughput carry demand too: scale what
		// the others report by the share of the region they were given.
		split := e.splitOf(pi, r)
		var reporting, all float64
		for c := range nC {
			all += split[c]
			if reports[c] {
				reporting += split[c]
			}
		}
		if reporting > 0.05*all && reporting < all {
			d.region[r] *= all / reporting
		}
	}
	for c := range e.cfg.CDNs {
		newest := time.Time{}
		for r := -1; r < nR; r++ {
			if h := ix.held[(r+1)*nC+c]; h != nil && h.at.After(newest) {
				newest = h.at
			}
		}
		if !newest.IsZero() && newest.Before(now) {
			// Blind: lean on the CDN less the longer its load is
			// unknown, down to blindAllowanceCut after static_drift.
			d.blind[c] = blindAllowanceCut * math.Min(1, float64(now.Sub(newest))/float64(p.StaticDrift))
		}
	}
	return d
}

// splitOf is the split last given in policy pi's region r, as shares,
// or the baseline's before the first.
func (e *Engine) splitOf(pi, r int) []float64 {
	if cs := e.ix.capacity(pi, r); len(cs.share) == len(e.cfg.CDNs) {
		return cs.share
	}
	return shares(e.cfg.Policies[pi].Baseline[r])
}

// requests is the sample count behind CDN c's fresh health signals in
// region r, at least 1 when it has any, 0 when none.
func (e *Engine) requests(r, c int, p *Params, now time.Time) float64 {
	rd := e.ix.read(r, c)
	if rd == nil {
		return 0
	}
	n := 0.0
	for k := range NumKinds {
		if k.Info().PerCommit || rd[k].t.IsZero() || now.Sub(rd[k].t) > p.SignalMaxAge {
			continue
		}
		n = math.Max(n, math.Max(1, float64(rd[k].samples)))
	}
	return n
}

// measureLoads notes every CDN's measured utilisation before the health
// step, so that it can tell load from ill health (loadedAt).
func (e *Engine) measureLoads(pi int, d demand) {
	p := &e.cfg.Policies[pi].Params
	for c, cdn := range e.cfg.CDNs {
		ld := e.ix.load(pi, c)
		ld.utilised, ld.loaded, ld.loadedIn = nil, false, nil
		if cdn.CommitGbps > 0 && !math.IsNaN(d.total[c]) {
			u := d.total[c] / cdn.CommitGbps
			ld.utilised = &u
			ld.loaded = u >= p.CapacitySoft-p.CapacityDeadBand
		}
		for r, region := range e.cfg.Regions {
			if commit := e.ix.commit(r, c); commit > 0 && d.measured[r][c]/commit >= p.CapacitySoft-p.CapacityDeadBand {
				if ld.loadedIn == nil {
					ld.loadedIn = map[string]bool{}
				}
				ld.loadedIn[region] = true
			}
		}
	}
}

// capacityPlan is the capacity step's result for one policy.
type capacityPlan struct {
	share    [][]float64 // per region and CDN, each region summing to 1 (or 0)
	failOpen []bool
	causes   [][]string
}

// planCapacity turns the health step's weights (want: baseline × score,
// 0 for a degraded CDN) into the policy's split.
func (e *Engine) planCapacity(pi int, want [][]float64, d demand, now time.Time) capacityPlan {
	pol, ix := &e.cfg.Policies[pi], e.ix
	p := pol.Params
	nR, nC := len(e.cfg.Regions), len(e.cfg.CDNs)
	a := ix.scratchAllocation(nR, nC)
	a.demand, a.follow, a.gain = d.region, p.FollowShare, nil
	for c, cdn := range e.cfg.CDNs {
		a.soft[c], a.hard[c] = math.Inf(1), math.Inf(1)
		// A CDN whose load was never measured is not limited: its share
		// of a demand inferred from the others is a guess.
		if cdn.CommitGbps > 0 && d.reports[c] {
			k := 1 - d.blind[c]
			a.soft[c], a.hard[c] = k*p.CapacitySoft*cdn.CommitGbps, k*p.CapacityHard*cdn.CommitGbps
		}
	}
	a.base = ix.baseShares[pi]
	for r, region := range e.cfg.Regions {
		base := pol.Baseline[r]
		baseSum := sum(base)
		w := sharesInto(a.want[r], want[r])
		capH, gated, rank, stuck := a.capH[r], a.gated[r], a.rank[r], a.stuck[r]
		softR, hardR := a.softR[r], a.hardR[r]
		for c, cdn := range e.cfg.CDNs {
			st := ix.cdn(pi, r, c)
			capH[c], rank[c] = 1, 100
			if st.hasScore {
				rank[c] = st.score
			}
			switch {
			case e.isDrained(pol.Name, region, cdn.Name):
				capH[c], rank[c], w[c] = 0, -1, 0
			case st.status == Degraded:
				// Nothing, or the share probation gives it.
				capH[c], gated[c] = w[c], true
			case st.status == Recovering && baseSum > 0:
				// The ramp is an absolute cap: a share of the CDN's
				// baseline share, not of whatever the others leave.
				capH[c] = st.ramp * base[c] / baseSum
			}
			stuck[c] = (1 - p.FollowShare) * d.measured[r][c]
			softR[c], hardR[c] = math.Inf(1), math.Inf(1)
			if commit := ix.commit(r, c); commit > 0 && d.reports[c] {
				softR[c], hardR[c] = p.CapacitySoft*commit, p.CapacityHard*commit
			}
		}
	}
	a.gain = e.learnGains(pi, a, d, now)
	ideal := ix.allocs.allocate(a)
	plan := capacityPlan{share: ix.scratchShares(nR, nC), failOpen: ideal.failOpen, causes: make([][]string, nR)}
	move, urgent := e.outOfBand(pi, a)
	for r := range e.cfg.Regions {
		cs := ix.capacity(pi, r)
		plan.share[r] = cs.next(plan.share[r], a, r, ideal.share[r], move, urgent[r], p, pol.TTL)
		cs.noteGiven(plan.share[r], now, pol.TTL+p.SignalMaxAge)
	}
	e.noteLoads(pi, a, plan, d)
	// A CDN's cause reads the same in every region: written once.
	cut := make([]string, nC)
	var block []string // every region's causes, made at the first
	add := func(r int, cause string) {
		if block == nil {
			block = make([]string, nR*(nC+1))
		}
		if plan.causes[r] == nil {
			plan.causes[r] = block[r*(nC+1) : r*(nC+1) : (r+1)*(nC+1)]
		}
		plan.causes[r] = append(plan.causes[r], cause)
	}
	for r := range nR {
		for c, cdn := range e.cfg.CDNs {
			if ld := ix.load(pi, c); ld.factor < 0.995 && plan.share[r][c] < a.want[r][c] {
				if cut[c] == "" {
					cut[c] = fmt.Sprintf("%s at %.0f%% of its health share for capacity", cdn.Name, 100*ld.factor)
					if ld.utilised != nil {
						cut[c] += fmt.Sprintf(" (%.0f%% of commit measured)", 100**ld.utilised)
					}
				}
				add(r, cut[c])
			}
		}
		if plan.failOpen[r] {
			add(r, "no CDN passing its gates has room")
		}
	}
	return plan
}

// capacityState is a region's split as the capacity step last gave it.
type capacityState struct {
	share []float64
	want  []float64
	capH  []float64
	// given is the most each CDN was given over the splits given
	// lately, the oldest the one in force when the telemetry's window
	// began (mostgiven.go).
	given mostGiven
	// gainHeld is each CDN's gain when its throughput was last fresh.
	gainHeld []float64
}

// capacityMemory is what the capacity step keeps between evaluations.
type capacityMemory struct {
	regions map[regionKey]*capacityState
	// held is the last fresh throughput of each CDN, per region and in
	// all (""), for when its feed goes quiet.
	held map[storeKey]*heldGbps
}

type heldGbps struct {
	v  float64
	at time.Time
}

func (e *Engine) capacityState(policy, region string) *capacityState {
	if e.capacity.regions == nil {
		e.capacity.regions = map[regionKey]*capacityState{}
	}
	return entry(e.capacity.regions, regionKey{policy, region}, func() *capacityState { return &capacityState{} })
}

// outOfBand reports whether some CDN's load under the split in force has
// left the dead band: over capacity_soft + capacity_dead_band of its
// commit, or held below its health share while under capacity_soft −
// capacity_dead_band. urgent marks, by region and CDN, a CDN over
// capacity_hard (in all or there): the rate limit does not hold it there.
func (e *Engine) outOfBand(pi int, a *allocation) (move bool, urgent [][]bool) {
	p := e.cfg.Policies[pi].Params
	prev := make([][]float64, len(a.want))
	urgent = shaped[bool](a.want)
	for r := range e.cfg.Regions {
		cs := e.ix.capacity(pi, r)
		if len(cs.share) != len(a.want[r]) {
			move = true
		}
		prev[r] = cs.share
	}
	if move {
		return true, urgent
	}
	load := a.loads(prev)
	for c := range a.hard {
		for r := range prev {
			urgent[r][c] = load[c] > a.hard[c]*(1+allocEpsilon) || a.regionLoad(prev, r, c, prev[r][c]) > a.hardR[r][c]*(1+allocEpsilon)
		}
	}
	for c := range a.soft {
		if math.IsInf(a.soft[c], 1) {
			continue
		}
		commit := a.soft[c] / p.CapacitySoft
		held := false
		for r := range prev {
			held = held || prev[r][c] < math.Min(a.want[r][c], a.capH[r][c])-0.005
		}
		if load[c] > (p.CapacitySoft+p.CapacityDeadBand)*commit || (held && load[c] < (p.CapacitySoft-p.CapacityDeadBand)*commit) {
			move = true
		}
	}
	for r := range prev {
		for c := range prev[r] {
			if math.IsInf(a.softR[r][c], 1) {
				continue
			}
			commit := a.softR[r][c] / p.CapacitySoft
			l := a.regionLoad(prev, r, c, prev[r][c])
			held := prev[r][c] < math.Min(a.want[r][c], a.capH[r][c])-0.005
			if l > (p.CapacitySoft+p.CapacityDeadBand)*commit || (held && l < (p.CapacitySoft-p.CapacityDeadBand)*commit) {
				move = true
			}
		}
	}
	return move, urgent
}

// next is region r's split for this evaluation: the ideal at once where
// health demands it (a CDN over its health cap, a new health share, a
// region failing open or back), else the split in force while the loads
// are within the dead band, else a step towards the ideal no larger than
// capacity_max_move of each CDN's share per TTL (none for a CDN past
// capacity_hard, and what the others take of it).
//
// The split is written into dst (a row of the plan), grown if need be.
func (cs *capacityState) next(dst []float64, a *allocation, r int, ideal []float64, move bool, urgent []bool, p Params, ttl time.Duration) []float64 {
	prev := cs.share
	forced := len(cs.want) != len(ideal) || len(cs.capH) != len(ideal)
	for c := range ideal {
		if forced || math.Abs(a.want[r][c]-cs.want[c]) > 0.01 || a.capH[r][c] != cs.capH[c] {
			// A new health share, or a cap that moved (a status, a
			// ramp's step, a drain): health moves at once.
			forced = true
			break
		}
	}
	cs.want = append(cs.want[:0], a.want[r]...)
	cs.capH = append(cs.capH[:0], a.capH[r]...)
	if len(prev) != len(ideal) || sum(prev) < 1-1e-6 {
		cs.share = append(cs.share[:0], ideal...)
		return append(dst[:0], ideal...)
	}
	for c := range ideal {
		if forced || (!a.gated[r][c] && prev[c] > a.capH[r][c]+allocEpsilon) {
			forced = true
			break
		}
		if a.gated[r][c] && ideal[c] > prev[c]+allocEpsilon {
			forced = true // failing open: no time to lose
			break
		}
	}
	out := append(dst[:0], prev...)
	switch {
	case forced:
		copy(out, ideal)
	case move:
		frac := 1.0
		if ttl > 0 {
			frac = math.Min(1, p.EvalInterval.Seconds()/ttl.Seconds())
		}
		// A CDN past its hard limit (and those taking what it sheds)
		// moves at once: no time to lose.
		hurry := slices.Contains(urgent, true)
		var room [16]float64 // on the stack for up to 16 CDNs
		step := append(room[:0], make([]float64, len(ideal))...)
		var up, down float64
		for c := range ideal {
			lim := p.CapacityMaxMove * frac * math.Max(0.01, math.Max(prev[c], ideal[c]))
			if hurry {
				lim = 1
			}
			step[c] = math.Max(-lim, math.Min(lim, ideal[c]-prev[c]))
			if step[c] > 0 {
				up += step[c]
			} else {
				down -= step[c]
			}
		}
		// What one CDN gives up another takes: scale the larger side
		// down to the smaller, so the shares still add up.
		ku, kd := 1.0, 1.0
		if up > down && up > 0 {
			ku = down / up
		} else if down > up && down > 0 {
			kd = up / down
		}
		for c := range out {
			if step[c] > 0 {
				out[c] += step[c] * ku
			} else {
				out[c] += step[c] * kd
			}
		}
	}
	cs.share = append(cs.share[:0], out...)
	return out
}

// noteLoads keeps for the view and explain what the plan gives each CDN.
func (e *Engine) noteLoads(pi int, a *allocation, plan capacityPlan, d demand) {
	pol := &e.cfg.Policies[pi]
	load := a.loads(plan.share)
	full := shaped[float64](a.want)
	for r := range a.want {
		for c := range full[r] {
			full[r][c] = math.Min(a.want[r][c], a.capH[r][c])
		}
	}
	wanted := a.loads(full)
	for c, cdn := range e.cfg.CDNs {
		ld := e.ix.load(pi, c)
		ld.factor, ld.utilNow = 1, nil
		if wanted[c] > 0 && load[c] < wanted[c] {
			ld.factor = load[c] / wanted[c]
		}
		if cdn.CommitGbps > 0 && d.known {
			u := load[c] / cdn.CommitGbps
			ld.utilNow = &u
			ld.loaded = ld.loaded || u >= pol.Params.CapacitySoft-pol.Params.CapacityDeadBand
		}
	}
}
