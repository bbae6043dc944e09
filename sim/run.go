package sim

import (
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Step is the simulated state at one step. Its slices are reused from
// step to step: an observer copies what it keeps.
type Step struct {
	Index   int64
	Time    time.Time
	Elapsed time.Duration
	// Audience is the concurrent viewers; RegionViewers splits it by
	// region and Viewers by region and CDN (the CDN of each group's
	// cached answer). All are whole viewers and add up exactly.
	Audience      int64
	RegionViewers []int64
	Viewers       [][]int64 // region × CDN
	// DemandGbps is what the viewers ask of each CDN; DeliveredGbps what
	// it serves (less when demand is above its ceiling).
	DemandGbps    [][]float64
	DeliveredGbps [][]float64
	// Faulted marks a CDN and region under a scripted fault, Saturated
	// one whose demand is above its ceiling; their viewers are Impaired.
	Faulted   [][]bool
	Saturated [][]bool
	Impaired  [][]int64
	// The true service of each CDN in each region, before measurement
	// noise.
	TTFBMs    [][]float64
	ErrorRate [][]float64
	CacheHit  [][]float64
	// Weights are the live weights new answers were picked with.
	Weights [][]float64
}

// Result is what a run produced.
type Result struct {
	Scenario  *Scenario
	Series    *Series
	Decisions []health.Decision
	Summary   Summary
	// Groups is how many cached answers were simulated (resolvers
	// without ECS plus ECS subnets); Stretching of them stretch TTLs.
	Groups     int
	Stretching int
}

// runner holds one run's moving parts.
type runner struct {
	sc       *Scenario
	eng      *health.Engine
	rec      *recorder
	pop      *population
	tel      *telemetry
	acc      *accumulator
	bill     *meter
	ser      *seriesBuilder
	cmcd     *cmcdFeed // nil when no player reports CMCD
	baseline []*health.Weights
	live     []*health.Weights
	st       Step

	shares   []float64 // region shares of the audience
	rems     []remainder
	nextEval time.Time
	notes    int // notes recorded so far
	actions  int // overrides put in force so far
	planned  int // plan activations and endings done so far
}

// Run simulates the scenario from its start to its end. observe, when not
// nil, is called with every step. With sc.Compare it also runs the
// counterfactuals (compare.go), alongside, and puts them in the summary.
func Run(sc *Scenario, observe func(*Step)) (*Result, error) {
	if sc.Step <= 0 {
		return nil, fmt.Errorf("simulate %s: step must be positive", sc.Name)
	}
	if sc.Duration < sc.Step {
		return nil, fmt.Errorf("simulate %s: duration %s is shorter than one step (%s)", sc.Name, sc.Duration, sc.Step)
	}
	if sc.Curve.Peak() > 1e9 {
		return nil, fmt.Errorf("simulate %s: an audience of %.0f is beyond what the simulator counts (1e9)", sc.Name, sc.Curve.Peak())
	}
	cmp := compare(sc)
	r := newRunner(sc)
	n := int64((sc.Duration + sc.Step - 1) / sc.Step)
	for k := int64(0); k < n; k++ {
		if err := r.step(k); err != nil {
			cmp.wait()
			return nil, err
		}
		if observe != nil {
			observe(&r.st)
		}
	}
	r.ser.flush(&r.st, r.eng)
	res := &Result{
		Scenario:   sc,
		Series:     r.ser.series,
		Decisions:  r.rec.ds,
		Summary:    r.bill.finish(r.acc.summary(r.rec.ds, r.pop.viewerSwitches())),
		Groups:     len(r.pop.groups),
		Stretching: r.pop.stretching,
	}
	cfs, err := cmp.wait()
	if err != nil {
		return nil, err
	}
	res.Summary.Counterfactuals = cfs
	return res, nil
}

func newRunner(sc *Scenario) *runner {
	cfg := sc.Policy.Config
	nR, nC := len(sc.Regions), len(sc.CDNs)
	names := make([]string, nC)
	for i, c := range sc.CDNs {
		names[i] = c.Name
	}
	r := &runner{sc: sc, rec: newRecorder(), nextEval: sc.Start, rems: make([]remainder, max(nR, nC))}
	for ri := range sc.Regions {
		r.baseline = append(r.baseline, health.NewWeights(names, cfg.Policies[sc.Policy.Index].Baseline[ri]))
		r.shares = append(r.shares, sc.Regions[ri].Share)
	}
	r.live = append([]*health.Weights(nil), r.baseline...)
	r.eng = health.NewEngine(cfg, r.rec)
	r.pop = newPopulation(sc, r.baseline)
	r.tel = newTelemetry(sc)
	r.st = newStep(nR, nC)
	r.acc = newAccumulator(sc)
	r.bill = newMeter(sc)
	r.ser = newSeriesBuilder(sc)
	r.cmcd = newCMCDFeed(sc)
	return r
}

func newStep(nR, nC int) Step {
	st := Step{RegionViewers: make([]int64, nR)}
	for range nR {
		st.Viewers = append(st.Viewers, make([]int64, nC))
		st.DemandGbps = append(st.DemandGbps, make([]float64, nC))
		st.DeliveredGbps = append(st.DeliveredGbps, make([]float64, nC))
		st.Faulted = append(st.Faulted, make([]bool, nC))
		st.Saturated = append(st.Saturated, make([]bool, nC))
		st.Impaired = append(st.Impaired, make([]int64, nC))
		st.TTFBMs = append(st.TTFBMs, make([]float64, nC))
		st.ErrorRate = append(st.ErrorRate, make([]float64, nC))
		st.CacheHit = append(st.CacheHit, make([]float64, nC))
		st.Weights = append(st.Weights, make([]float64, nC))
	}
	return st
}

// step advances the world by one step: operators act, the engine
// evaluates on its own interval, expiring caches re-resolve with the live
// weights, viewers and traffic follow, and what probes and beacons see is
// delivered to the engine for its next evaluation.
func (r *runner) step(k int64) error {
	sc := r.sc
	d := time.Duration(k) * sc.Step
	now := sc.Start.Add(d)
	r.st.Index, r.st.Time, r.st.Elapsed = k, now, d
	if err := r.operate(d, now); err != nil {
		return err
	}
	for !r.nextEval.After(now) {
		t := r.eng.Evaluate(r.nextEval)
		for ri := range sc.Regions {
			if w := t.Get(sc.Policy.Index, ri); w != nil {
				r.live[ri] = w
			}
		}
		r.nextEval = r.nextEval.Add(sc.Policy.Params.EvalInterval)
	}
	for ri := range sc.Regions {
		copy(r.st.Weights[ri], r.live[ri].W)
	}
	r.pop.resolve(k, r.live, &r.st)
	r.physics(d)
	r.tel.measure(&r.st)
	r.tel.deliver(now, r.eng)
	r.cmcd.report(&r.st, r.eng)
	r.acc.add(&r.st)
	r.bill.add(&r.st)
	r.ser.add(&r.st, r.eng)
	return nil
}

// operate records the notes and puts in force the overrides that are due,
// as an operator would through the API.
func (r *runner) operate(d time.Duration, now time.Time) error {
	sc := r.sc
	for ; r.notes < len(sc.Notes) && sc.Notes[r.notes].At <= d; r.notes++ {
		n := sc.Notes[r.notes]
		r.rec.Record(health.Decision{Time: now, Kind: health.DecisionAnnotation, Annotation: &health.Annotation{
			ID: fmt.Sprintf("note-%d", r.notes+1), Time: sc.Start.Add(n.At), Text: n.Text, Tags: n.Tags}})
	}
	for ; r.actions < len(sc.Overrides) && sc.Overrides[r.actions].At <= d; r.actions++ {
		a := sc.Overrides[r.actions]
		o := health.Override{Action: a.Action, CDN: a.CDN, Region: a.Region, Reason: a.Reason, Expires: sc.Start.Add(a.At + a.Duration)}
		if _, err := r.eng.AddOverride(o, now); err != nil {
			return fmt.Errorf("simulate %s: override %d (%s): %w", sc.Name, r.actions+1, a.Action, err)
		}
	}
	return r.planActions(d, now)
}
