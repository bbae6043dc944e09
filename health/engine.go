package health

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Engine turns signals into scores, statuses and live weights. Sources
// push signals at any time; Evaluate runs on a tick and returns a new
// immutable Table for the DNS path. The mutex here guards the engine's
// own memory; the query path never takes it.
type Engine struct {
	mu        sync.Mutex
	cfg       Config
	store     store
	cdns      map[stateKey]*cdnState
	regions   map[regionKey]*regionState
	loads     map[cdnKey]*cdnLoad
	capacity  capacityMemory
	overrides []*Override
	journal   Journal
	signalLog SignalLog // nil: signals are not recorded
	table     *Table
	// events are the recent plan and schedule events; schedules what the
	// engine knows of each schedule's window (schedule.go).
	events    []PlanEvent
	schedules map[string]*scheduleState
	// sight is what the engine knows of its own blindness (blind.go).
	sight sight
	// parents are the pooled signals of the evaluation under way
	// (confidence.go); emptied when the store changes.
	parents parentMemo
	// ix is the state by position for the config in force (index.go);
	// nil until the next evaluation after a reload.
	ix *index

	lastCheckpoint time.Time
	ckptOrder      []orderedState // checkpoint_order.go
}

type stateKey struct{ policy, region, cdn string }
type regionKey struct{ policy, region string }
type cdnKey struct{ policy, cdn string }

// CheckpointInterval is how often the full state goes to the decision
// log, bounding what a warm restart can miss.
const CheckpointInterval = time.Minute

// weightLogStep is how far (as a share of the region's traffic) a CDN's
// live weight must move before the change is logged, so that small score
// wobbles do not flood the log.
const weightLogStep = 0.02

// NewEngine returns an engine for cfg that records decisions to j (nil
// for none).
func NewEngine(cfg Config, j Journal) *Engine {
	if j == nil {
		j = nopJournal{}
	}
	e := &Engine{cfg: cfg, store: store{}, cdns: map[stateKey]*cdnState{}, regions: map[regionKey]*regionState{}, loads: map[cdnKey]*cdnLoad{}, journal: j, schedules: map[string]*scheduleState{}}
	return e
}

// SetConfig switches to a reloaded policy. State is kept by name, so a
// CDN that stays in the policy keeps its score and status.
func (e *Engine) SetConfig(cfg Config, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !slices.Equal(cfg.cdnNames(), e.cfg.cdnNames()) {
		// Splits are kept per CDN position; with another CDN list they
		// would be read for the wrong CDNs. The next evaluation rebuilds
		// them from the per-CDN state, which is kept by name.
		for _, rs := range e.regions {
			rs.live, rs.lastGood, rs.goodDrained, rs.logged = nil, nil, nil, nil
		}
	}
	e.cfg = cfg
	e.ix = nil
	for k := range e.loads {
		if cfg.PolicyIndex(k.policy) < 0 || cfg.CDNIndex(k.cdn) < 0 {
			delete(e.loads, k)
		}
	}
	// endOverride edits e.overrides: walk a copy.
	for _, o := range append([]*Override(nil), e.overrides...) {
		if err := o.validate(&cfg, now); err != nil && !isExpiry(err) {
			e.endOverride(o, now, "policy reload: "+err.Error())
		}
	}
	e.journal.Record(Decision{Time: now, Kind: DecisionReload, Reason: fmt.Sprintf("%d policies, %d regions, %d CDNs", len(cfg.Policies), len(cfg.Regions), len(cfg.CDNs))})
}

func isExpiry(err error) bool {
	fe, ok := err.(*keyerr.Error)
	return ok && (fe.Key == "expires" || fe.Key == "reason")
}

// Config returns the configuration in force.
func (e *Engine) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg
}

// CheckSignal reports what is wrong with a signal, if anything, so that an
// API can refuse a whole batch before applying any of it.
func (e *Engine) CheckSignal(s Signal) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cfg.CDNIndex(s.CDN) < 0 {
		return &keyerr.Error{Key: "cdn", Msg: fmt.Sprintf("unknown cdn %q", s.CDN)}
	}
	if s.Region != "" && e.cfg.RegionIndex(s.Region) < 0 {
		return &keyerr.Error{Key: "region", Msg: fmt.Sprintf("unknown region %q", s.Region)}
	}
	for k, v := range s.Values {
		info := Kind(k).Info()
		if v != nil && (math.IsNaN(*v) || !Kind(k).InRange(*v)) {
			return &keyerr.Error{Key: info.Key, Msg: fmt.Sprintf("%v is outside %g..%g", *v, info.Min, info.Max)}
		}
	}
	if !s.Values.any() {
		return &keyerr.Error{Key: "signals", Msg: "a signal needs at least one of " + strings.Join(Keys(kindsFrom(s.Source)), ", ")}
	}
	if s.Samples < 0 {
		return &keyerr.Error{Key: "samples", Msg: "must be >= 0"}
	}
	return nil
}

// kindsFrom lists the kinds source may feed; all of them for a source the
// table does not name.
func kindsFrom(source string) []Kind {
	ks := FedBy(source)
	if len(ks) == 0 {
		for k := range NumKinds {
			ks = append(ks, k)
		}
	}
	return ks
}

// Push records signals, and hands each to the signal log if there is
// one. Signals for CDNs the policy does not know are ignored (a probe of
// a CDN just removed by a reload, say).
func (e *Engine) Push(sigs ...Signal) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range sigs {
		if e.cfg.CDNIndex(s.CDN) >= 0 {
			e.store.add(e.unstall(s))
			clear(e.parents)
			if e.signalLog != nil {
				e.signalLog.RecordSignal(s)
			}
		}
	}
}

// Table returns the last published table.
func (e *Engine) Table() *Table {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.table
}

// Evaluate recomputes every score, status and weight as of now and
// returns the table to publish.
func (e *Engine) Evaluate(now time.Time) *Table {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runSchedules(now)
	e.expireOverrides(now)
	e.parents = parentMemo{}
	ix := e.indexed()
	ix.refresh(e)
	seeds := cdnSeeds(e.cfg.cdnNames())
	nR := len(e.cfg.Regions)
	w := make([][]*Weights, len(e.cfg.Policies))
	healths := make([]regionHealth, nR)
	want := make([][]float64, nR)
	for pi := range e.cfg.Policies {
		pol := &e.cfg.Policies[pi]
		// Load first, so that the health step can tell load from ill
		// health; then every region's health; then the capacity step
		// plans the policy's split over all regions at once, since a
		// CDN's commit is shared by them.
		d := e.measureDemand(pi, now)
		e.measureLoads(pi, d)
		for ri := range e.cfg.Regions {
			h := &healths[ri]
			*h = regionHealth{}
			h.live, h.fresh, h.causes = e.healthSplit(pi, ri, now)
			h.want = h.live
			want[ri] = h.live
		}
		plan := e.planCapacity(pi, want, d, now)
		w[pi] = make([]*Weights, nR)
		for ri := range e.cfg.Regions {
			h := &healths[ri]
			h.live = scaled(plan.share[ri], sum(pol.Baseline[ri]))
			h.spilled = plan.failOpen[ri]
			h.causes = append(h.causes, plan.causes[ri]...)
			ws := Weights{W: usableInto(ix.weights[:0], e.evaluateRegion(pi, ri, h, now)), seeds: seeds}
			ix.weights = ws.W
			ws.TTL, ws.TTLCause = e.regionTTL(pi, ri, now)
			ws.Blind, ws.Probation = e.sightNotes(pi, ri)
			ws.holds = e.holding(pi, ri, want[ri], plan.share[ri])
			w[pi][ri] = e.table.Get(pi, ri).orEqual(&ws)
		}
	}
	if now.Sub(e.lastCheckpoint) >= CheckpointInterval {
		e.checkpoint(now)
	}
	e.table = NewTable(w)
	ix.answered = nil
	return e.table
}

func (e *Engine) cdnState(policy, region, cdn string) *cdnState {
	return entry(e.cdns, stateKey{policy, region, cdn}, newCDNState)
}

func (e *Engine) cdnLoad(policy, cdn string) *cdnLoad {
	return entry(e.loads, cdnKey{policy, cdn}, newCDNLoad)
}

func (e *Engine) regionState(policy, region string) *regionState {
	return entry(e.regions, regionKey{policy, region}, func() *regionState { return &regionState{} })
}

// entry returns m[k], storing a new one first when there is none.
func entry[K comparable, V any](m map[K]*V, k K, create func() *V) *V {
	v := m[k]
	if v == nil {
		v = create()
		m[k] = v
	}
	return v
}

// regionHealth is a region's split between the health step and the end
// of its evaluation.
type regionHealth struct {
	live []float64
	// want is the health step's split, before the capacity step.
	want   []float64
	fresh  bool
	causes []string
	// spilled says the capacity step handed some of the region to a CDN
	// failing its gates: the region fails open.
	spilled bool
}

// scaled is shares as weights of the baseline's scale, so that the
// decision log and the view show weights like the policy's.
func scaled(share []float64, total float64) []float64 {
	if !(total > 0) {
		total = 1
	}
	out := make([]float64, len(share))
	for i, v := range share {
		out[i] = v * total
	}
	return out
}

// evaluateRegion finishes a policy's live split in one region from the
// split the CDNs' health and load give (h): held while telemetry is
// stale, then the operators' overrides, then failing open when nothing
// is left.
func (e *Engine) evaluateRegion(pi, ri int, h *regionHealth, now time.Time) []float64 {
	pol := &e.cfg.Policies[pi]
	region := e.cfg.Regions[ri]
	base := pol.Baseline[ri]
	rs := e.ix.region(pi, ri)

	live, fresh, causes := h.live, h.fresh, h.causes
	if e.failStatic(rs, pi, ri, live, h.want, fresh, now) {
		causes = append(causes, "telemetry stale")
	}
	live, overrideCause := e.applyOverrides(pol.Name, region, live, base)
	if overrideCause != "" {
		causes = append(causes, overrideCause)
	}
	for i := range live {
		live[i] = usable(live[i])
	}
	if live = e.failOpen(rs, pol.Name, region, live, base, h.spilled, now); rs.failedOpen {
		causes = append(causes, "fail open")
	}

	rs.live = live
	e.logWeights(rs, pol.Name, region, live, causes, now)
	return live
}

// healthSplit scores every CDN on its fresh signals and scales its
// baseline weight by its status: a recovering CDN's ramp and every load
// are the capacity step's (capacity.go), as caps on share. fresh is
// false when no CDN had a fresh signal; causes name the status changes
// that moved the split.
func (e *Engine) healthSplit(pi, ri int, now time.Time) (live []float64, fresh bool, causes []string) {
	pol, region, ix := &e.cfg.Policies[pi], e.cfg.Regions[ri], e.ix
	base := pol.Baseline[ri]
	p := &pol.Params
	live = make([]float64, len(e.cfg.CDNs))
	for ci, cdn := range e.cfg.CDNs {
		st := ix.cdn(pi, ri, ci)
		ce := e.readEvidence(pi, ri, ci, st.status != Degraded, now)
		st.readings = ce.readings
		if raw, ok := ce.score(p, cdn.CommitGbps); ok {
			fresh = true
			st.observe(raw, p.DownAfter)
			e.updateScore(st, raw, p)
			if c := e.updateStatus(st, ce.judge(st, p, cdn.CommitGbps, ix.load(pi, ci).at(region)), p, pol.Name, region, cdn.Name, now); c != "" {
				causes = append(causes, c)
			}
		}
		f := st.deadBand(st.sustained(), p)
		if st.status == Degraded {
			f = 0
		}
		live[ci] = base[ci] * f
		e.updateSight(pi, ri, ci, st, now)
	}
	causes = append(causes, e.probation(pi, ri, live, base, now)...)
	if blind, _ := e.sightNotes(pi, ri); len(blind) > 0 {
		causes = append(causes, "blind: "+strings.Join(blind, ", "))
	}
	return live, fresh, causes
}

// failStatic handles telemetry gone stale: it holds the last measured
// split and drifts to the baseline over StaticDrift rather than trust a
// split no measurement supports, changing live in place. It reports
// whether it did. What it holds is health's split, not the overrides'
// effect (heldsplit.go): those apply after it, at once, stale or not.
func (e *Engine) failStatic(rs *regionState, pi, ri int, live, want []float64, fresh bool, now time.Time) bool {
	pol, region := &e.cfg.Policies[pi], e.cfg.Regions[ri]
	p, base := pol.Params, pol.Baseline[ri]
	if fresh {
		if !rs.staleSince.IsZero() {
			e.journal.Record(Decision{Time: now, Kind: DecisionStaleEnd, Policy: pol.Name, Region: region, Reason: "fresh signals again"})
			rs.staleSince = time.Time{}
		}
		e.holdGood(rs, pol.Name, region, live, base)
		return false
	}
	if rs.lastGood == nil {
		e.neverMeasured(rs, pol, region, now)
		return false
	}
	if rs.staleSince.IsZero() {
		rs.staleSince = now
		e.journal.Record(Decision{Time: now, Kind: DecisionStale, Policy: pol.Name, Region: region,
			Reason: fmt.Sprintf("no fresh signal for any CDN for %s: holding the last measured split, drifting to the baseline over %s", p.SignalMaxAge, p.StaticDrift)})
	}
	k := math.Min(1, float64(now.Sub(rs.staleSince))/float64(p.StaticDrift))
	held := e.heldSplit(rs, pi, ri, want)
	for ci := range live {
		live[ci] = held[ci] + (base[ci]-held[ci])*k
	}
	return true
}

// failOpen makes sure an answer can always be given: when no weight is
// left, the region falls back to its baseline (minus what operators
// drained). A region the capacity step had to hand in part to a CDN
// failing its gates (spilled) has failed open too, onto the least bad
// CDN rather than the baseline. rs.failedOpen says whether it did.
func (e *Engine) failOpen(rs *regionState, policy, region string, live, base []float64, spilled bool, now time.Time) []float64 {
	if sum(live) != 0 && spilled {
		if !rs.failedOpen {
			rs.failedOpen = true
			e.journal.Record(Decision{Time: now, Kind: DecisionFailOpen, Policy: policy, Region: region,
				Reason: "no CDN passing its gates has room for the whole region: the least bad of the others takes the rest"})
		}
		return live
	}
	if sum(live) != 0 {
		if rs.failedOpen {
			rs.failedOpen = false
			e.journal.Record(Decision{Time: now, Kind: DecisionFailOpenEnd, Policy: policy, Region: region, Reason: "a CDN is available again"})
		}
		return live
	}
	if !rs.failedOpen {
		rs.failedOpen = true
		e.journal.Record(Decision{Time: now, Kind: DecisionFailOpen, Policy: policy, Region: region,
			Reason: "every CDN of the region is degraded, drained or full: serving the baseline split"})
	}
	live = e.drained(policy, region, append([]float64(nil), base...))
	if sum(live) == 0 {
		live = append(live[:0], base...)
	}
	return live
}

func (e *Engine) updateScore(st *cdnState, raw float64, p *Params) {
	if !st.hasScore {
		// A CDN never measured starts from full marks, so its first
		// sample, good or bad, is smoothed like any other.
		st.score, st.hasScore = 100, true
	}
	a := p.SmoothingUp
	if raw < st.score {
		a = p.SmoothingDown
	}
	// A smoothing factor that is not a number (an engine built without
	// Params.Validate) must not leave NaN in the score for good.
	if next := a*raw + (1-a)*st.score; !math.IsNaN(next) && !math.IsInf(next, 0) {
		st.score = next
	} else {
		st.score = raw
	}
}

// updateStatus applies the hysteresis: fast down, slow and gradual up.
// It returns a cause for the weights log when the status changed.
func (e *Engine) updateStatus(st *cdnState, v verdict, p *Params, policy, region, cdn string, now time.Time) string {
	if st.score < p.DownThreshold && v.scoreCounts {
		st.below++
	} else {
		st.below = 0
	}
	if v.gate.crossed {
		st.gated++
	} else {
		st.gated = 0
	}
	if st.score >= p.UpThreshold && v.gate.clear {
		st.above += v.gate.weight
	} else {
		st.above = 0
	}
	from := st.status
	var reason string
	switch st.status {
	case Healthy, Recovering:
		if st.gated >= p.DownAfter || st.below >= p.DownAfter {
			st.status, st.ramp = Degraded, 0
			st.degraded(now)
			var why []string
			if st.gated >= p.DownAfter {
				why = append(why, fmt.Sprintf("%s for %d evaluations", v.gate.reason, st.gated))
			}
			if st.below >= p.DownAfter {
				why = append(why, fmt.Sprintf("score %.0f below %.0f for %d evaluations", st.score, p.DownThreshold, st.below))
			}
			reason = strings.Join(why, "; ")
		} else if st.status == Recovering {
			st.ramp = math.Min(1, st.ramp+p.RecoveryStep)
			if st.ramp >= 1 {
				st.status = Healthy
				reason = "back at its full share"
			}
		}
	case Degraded:
		if need := st.holdDown(p); st.above >= float64(need) {
			st.status, st.ramp = Recovering, p.RecoveryStep
			reason = fmt.Sprintf("score %.0f at or above %.0f with every gate clear for %d evaluations' worth of evidence: share returns in steps of %.0f%%", st.score, p.UpThreshold, need, 100*p.RecoveryStep)
			if need > p.UpAfter {
				reason += fmt.Sprintf(" (hold-down after %d degradations within %s)", len(st.degradations), flapWindow)
			}
		}
	}
	if st.status == from {
		return ""
	}
	st.lastChange = now
	score := Round(st.score, 1)
	e.journal.Record(Decision{Time: now, Kind: DecisionState, Policy: policy, Region: region, CDN: cdn,
		From: string(from), To: string(st.status), Score: &score, Reason: reason, Signals: st.readings.Map()})
	return fmt.Sprintf("%s %s", cdn, st.status)
}

func (e *Engine) logWeights(rs *regionState, policy, region string, live []float64, causes []string, now time.Time) {
	share := shares(live)
	moved := rs.logged == nil
	for i := range share {
		if !moved && math.Abs(share[i]-rs.logged[i]) >= weightLogStep {
			moved = true
		}
	}
	if !moved {
		return
	}
	rs.logged = share
	m := map[string]float64{}
	for i, cdn := range e.cfg.CDNs {
		m[cdn.Name] = Round(live[i], 2)
	}
	reason := strings.Join(causes, "; ")
	if reason == "" {
		reason = "scores moved"
	}
	rs.reason = reason
	e.journal.Record(Decision{Time: now, Kind: DecisionWeights, Policy: policy, Region: region, Weights: m, Reason: reason})
}

func (e *Engine) checkpoint(now time.Time) {
	e.lastCheckpoint = now
	order := e.checkpointOrder()
	states := make([]CDNCheckpoint, 0, len(order))
	var rs *regionState
	for i, o := range order {
		k, s := o.k, o.s
		if i == 0 || k.policy != order[i-1].k.policy || k.region != order[i-1].k.region {
			rs = e.regions[regionKey{k.policy, k.region}]
		}
		if !s.hasScore {
			continue
		}
		weight := 0.0
		if ci := e.cfg.CDNIndex(k.cdn); rs != nil && ci >= 0 && ci < len(rs.live) {
			weight = rs.live[ci]
		}
		states = append(states, CDNCheckpoint{Policy: k.policy, Region: k.region, CDN: k.cdn, Score: Round(s.score, 2), Status: s.status, Ramp: Round(s.ramp, 3), Weight: Round(weight, 3)})
	}
	// The decision log writes what changed since its last checkpoint, or
	// all of it (checkpointDelta).
	e.journal.Record(Decision{Time: now, Kind: DecisionCheckpoint, States: states})
}

// usable is a weight as steering may use it: one that is not a finite
// number, or is negative, counts as zero. The fail-open test compares the
// region's sum with zero, and NaN compares false with everything.
func usable(w float64) float64 {
	if !(w > 0) || math.IsInf(w, 0) {
		return 0
	}
	return w
}

func sum(v []float64) float64 {
	t := 0.0
	for _, x := range v {
		t += x
	}
	return t
}

func shares(v []float64) []float64 {
	return sharesInto(make([]float64, len(v)), v)
}

// sharesInto is shares written into out (as long as v, zeroed or not).
func sharesInto(out, v []float64) []float64 {
	t := sum(v)
	if t == 0 {
		clear(out)
		return out
	}
	for i, x := range v {
		out[i] = x / t
	}
	return out
}
