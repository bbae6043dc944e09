package report

import (
	"sort"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Analyze reads a decision log (in order). end extends the timeline to
// the end of the event; zero means the last decision's time.
func Analyze(ds []health.Decision, end time.Time) *Timeline {
	a := newAnalysis(len(ds))
	for _, d := range ds {
		a.read(d)
	}
	return a.finish(end)
}

// analysis is Analyze's state while it reads a log: the timeline so far,
// the names seen, and what has begun but not yet ended.
type analysis struct {
	tl                      *Timeline
	policies, regions, cdns map[string]bool
	failOpen, stale         map[RegionKey]time.Time
	open                    map[string]int // override ID → index in tl.Overrides
	// ckpt follows the checkpoints, full or delta: each gives every
	// state's point, as a full one did before deltas.
	ckpt health.CheckpointState
}

func newAnalysis(decisions int) *analysis {
	return &analysis{
		tl: &Timeline{Scores: map[Key][]Point{}, Status: map[Key][]StatusAt{}, Shares: map[RegionKey][]SharesAt{},
			Degradations: map[Key]int{}, Shifts: map[RegionKey]int{}, Decisions: decisions},
		policies: map[string]bool{}, regions: map[string]bool{}, cdns: map[string]bool{},
		failOpen: map[RegionKey]time.Time{}, stale: map[RegionKey]time.Time{},
		open: map[string]int{},
	}
}

// read adds one decision to the timeline.
func (a *analysis) read(d health.Decision) {
	tl := a.tl
	if tl.Start.IsZero() || d.Time.Before(tl.Start) {
		tl.Start = d.Time
	}
	if d.Time.After(tl.End) {
		tl.End = d.Time
	}
	rk := RegionKey{d.Policy, d.Region}
	switch d.Kind {
	case health.DecisionCheckpoint:
		a.checkpoint(d)
	case health.DecisionState:
		a.state(d)
	case health.DecisionWeights:
		a.weights(d)
	case health.DecisionOverride:
		a.override(d)
	case health.DecisionOverrideEnd:
		a.overrideEnd(d)
	case health.DecisionAnnotation:
		if d.Annotation != nil {
			tl.Annotations = append(tl.Annotations, *d.Annotation)
		}
	case health.DecisionEscalation, health.DecisionEscalationEnd:
		a.escalation(d)
	case health.DecisionFailOpen:
		a.failOpen[rk] = d.Time
	case health.DecisionFailOpenEnd:
		tl.FailOpen = appendSpan(tl.FailOpen, a.failOpen, rk, d.Time)
	case health.DecisionStale:
		a.stale[rk] = d.Time
	case health.DecisionStaleEnd:
		tl.Stale = appendSpan(tl.Stale, a.stale, rk, d.Time)
	case health.DecisionPlan, health.DecisionPlanEnd, health.DecisionSchedule, health.DecisionScheduleEnd:
		tl.Plans = append(tl.Plans, d)
	case health.DecisionRestore, health.DecisionReload:
		tl.Restarts = append(tl.Restarts, Mark{d.Time, d.Kind})
	}
}

// see notes the names a decision mentions; empty ones are skipped.
func (a *analysis) see(policy, region, cdn string) {
	for _, n := range []struct {
		set  map[string]bool
		name string
	}{{a.policies, policy}, {a.regions, region}, {a.cdns, cdn}} {
		if n.name != "" {
			n.set[n.name] = true
		}
	}
}

// checkpoint reads the minutely record of every score and status (a
// delta's unchanged states as the checkpoints before it left them).
func (a *analysis) checkpoint(d health.Decision) {
	for _, c := range a.ckpt.Apply(d) {
		k := Key{c.Policy, c.Region, c.CDN}
		a.see(c.Policy, c.Region, c.CDN)
		a.tl.Scores[k] = append(a.tl.Scores[k], Point{d.Time, c.Score})
		a.tl.setStatus(k, d.Time, c.Status)
	}
}

// state reads one CDN's change of status.
func (a *analysis) state(d health.Decision) {
	k := Key{d.Policy, d.Region, d.CDN}
	a.see(d.Policy, d.Region, d.CDN)
	if d.Score != nil {
		a.tl.Scores[k] = append(a.tl.Scores[k], Point{d.Time, *d.Score})
	}
	a.tl.setStatus(k, d.Time, health.Status(d.To))
	if d.To == string(health.Degraded) {
		a.tl.Degradations[k]++
	}
	a.tl.States = append(a.tl.States, d)
}

// weights reads a region's new split, kept as parts of 1.
func (a *analysis) weights(d health.Decision) {
	rk := RegionKey{d.Policy, d.Region}
	a.see(d.Policy, d.Region, "")
	total := 0.0
	for cdn, w := range d.Weights {
		a.see("", "", cdn)
		total += w
	}
	sh := map[string]float64{}
	for cdn, w := range d.Weights {
		if total > 0 {
			sh[cdn] = w / total
		}
	}
	a.tl.Shares[rk] = append(a.tl.Shares[rk], SharesAt{d.Time, sh})
	a.tl.Shifts[rk]++
}

// override opens an override's span, to its expiry unless it ends first.
func (a *analysis) override(d health.Decision) {
	o := d.Override
	if o == nil {
		return
	}
	a.see(o.Policy, o.Region, o.CDN)
	a.open[o.ID] = len(a.tl.Overrides)
	a.tl.Overrides = append(a.tl.Overrides, OverrideSpan{Override: *o, From: d.Time, To: o.Expires})
}

// overrideEnd closes an open override's span, saying why it ended.
func (a *analysis) overrideEnd(d health.Decision) {
	if d.Override == nil {
		return
	}
	if i, ok := a.open[d.Override.ID]; ok {
		a.tl.Overrides[i].To, a.tl.Overrides[i].Ended = d.Time, d.Reason
		delete(a.open, d.Override.ID)
	}
}

// finish runs whatever is still open to the end of the timeline (end,
// when later than the last decision) and puts the lists in order.
func (a *analysis) finish(end time.Time) *Timeline {
	tl := a.tl
	if end.After(tl.End) {
		tl.End = end
	}
	for rk := range a.failOpen {
		tl.FailOpen = appendSpan(tl.FailOpen, a.failOpen, rk, tl.End)
	}
	for rk := range a.stale {
		tl.Stale = appendSpan(tl.Stale, a.stale, rk, tl.End)
	}
	for i := range tl.Overrides {
		if o := &tl.Overrides[i]; o.Ended == "" && o.To.After(tl.End) {
			o.To = tl.End
		}
	}
	sortSpans(tl.FailOpen)
	sortSpans(tl.Stale)
	sort.SliceStable(tl.Annotations, func(i, j int) bool { return tl.Annotations[i].Time.Before(tl.Annotations[j].Time) })
	tl.Policies, tl.Regions, tl.CDNs = sortedSet(a.policies), sortedSet(a.regions), sortedSet(a.cdns)
	return tl
}
