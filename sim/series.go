package sim

import (
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Series is the run at output resolution: one Interval per
// Scenario.OutputInterval (rounded up to whole steps).
type Series struct {
	// Start is the first interval's; Step the simulation's; Interval
	// the length of each interval.
	Start    time.Time
	Step     time.Duration
	Interval time.Duration
	// Regions and CDNs name the cells' indexes.
	Regions   []string
	CDNs      []string
	Intervals []Interval
}

// Interval is the state over one output interval: viewers and traffic
// averaged over its steps, the engine's view as of its last step.
type Interval struct {
	// Time is the start of the interval, Elapsed its offset from the
	// scenario's start.
	Time     time.Time
	Elapsed  time.Duration
	Audience float64
	// Cells are region × CDN; CDNs the totals of each CDN.
	Cells [][]Cell
	CDNs  []CDNTotal
}

// Cell is one CDN in one region over an interval.
type Cell struct {
	// Viewers, traffic and impaired viewers, averaged.
	Viewers       float64
	DemandGbps    float64
	DeliveredGbps float64
	Impaired      float64
	// Utilisation is delivered ÷ the regional commit; 0 without one.
	Utilisation float64
	Faulted     bool // at any step of the interval
	Saturated   bool
	// The true service, averaged.
	TTFBMs    float64
	ErrorRate float64
	CacheHit  float64
	// The engine's view at the end: live weight, share of new answers,
	// score (nil until measured) and status.
	Weight float64
	Share  float64
	Score  *float64
	Status health.Status
}

// CDNTotal is one CDN over all regions over an interval.
type CDNTotal struct {
	// Viewers, traffic and impaired viewers, averaged.
	Viewers       float64
	DemandGbps    float64
	DeliveredGbps float64
	Impaired      float64
	// Utilisation is delivered ÷ the commit; 0 when the commit is unknown.
	Utilisation float64
}

// seriesBuilder averages steps into intervals.
type seriesBuilder struct {
	sc     *Scenario
	series *Series
	every  int // steps per interval
	n      int // steps in the interval so far
	acc    Interval
}

func newSeriesBuilder(sc *Scenario) *seriesBuilder {
	every := 1
	if sc.OutputInterval > sc.Step {
		every = int((sc.OutputInterval + sc.Step - 1) / sc.Step)
	}
	s := &Series{Start: sc.Start, Step: sc.Step, Interval: time.Duration(every) * sc.Step, Regions: regionNames(sc)}
	for _, c := range sc.CDNs {
		s.CDNs = append(s.CDNs, c.Name)
	}
	b := &seriesBuilder{sc: sc, series: s, every: every}
	b.reset()
	return b
}

func (b *seriesBuilder) reset() {
	b.n = 0
	b.acc = Interval{CDNs: make([]CDNTotal, len(b.sc.CDNs))}
	for range b.sc.Regions {
		b.acc.Cells = append(b.acc.Cells, make([]Cell, len(b.sc.CDNs)))
	}
}

// add takes in one step and closes the interval when it is complete.
func (b *seriesBuilder) add(st *Step, eng *health.Engine) {
	if b.n == 0 {
		b.acc.Time, b.acc.Elapsed = st.Time, st.Elapsed
	}
	b.n++
	b.acc.Audience += float64(st.Audience)
	for ri := range b.sc.Regions {
		for ci := range b.sc.CDNs {
			c := &b.acc.Cells[ri][ci]
			c.Viewers += float64(st.Viewers[ri][ci])
			c.DemandGbps += st.DemandGbps[ri][ci]
			c.DeliveredGbps += st.DeliveredGbps[ri][ci]
			c.Impaired += float64(st.Impaired[ri][ci])
			c.TTFBMs += st.TTFBMs[ri][ci]
			c.ErrorRate += st.ErrorRate[ri][ci]
			c.CacheHit += st.CacheHit[ri][ci]
			c.Faulted = c.Faulted || st.Faulted[ri][ci]
			c.Saturated = c.Saturated || st.Saturated[ri][ci]
		}
	}
	if b.n == b.every {
		b.flush(st, eng)
	}
}

// flush closes the interval in progress, if any, reading the engine's
// view as of st.
func (b *seriesBuilder) flush(st *Step, eng *health.Engine) {
	if b.n == 0 {
		return
	}
	k := 1 / float64(b.n)
	iv := b.acc
	iv.Audience *= k
	view := eng.View(st.Time)
	pv := view.Policies[b.sc.Policy.Index]
	for ri := range b.sc.Regions {
		total := 0.0
		for _, w := range st.Weights[ri] {
			total += w
		}
		for ci, cdn := range b.sc.CDNs {
			c := &iv.Cells[ri][ci]
			c.Viewers *= k
			c.DemandGbps *= k
			c.DeliveredGbps *= k
			c.Impaired *= k
			c.TTFBMs *= k
			c.ErrorRate *= k
			c.CacheHit *= k
			if commit := cdn.Regions[ri].CommitGbps; commit > 0 {
				c.Utilisation = c.DeliveredGbps / commit
			}
			c.Weight = st.Weights[ri][ci]
			if total > 0 {
				c.Share = c.Weight / total
			}
			cv := pv.Regions[ri].CDNs[ci]
			c.Score, c.Status = cv.Score, cv.Status
			t := &iv.CDNs[ci]
			t.Viewers += c.Viewers
			t.DemandGbps += c.DemandGbps
			t.DeliveredGbps += c.DeliveredGbps
			t.Impaired += c.Impaired
		}
	}
	for ci, cdn := range b.sc.CDNs {
		if cdn.CommitGbps > 0 {
			iv.CDNs[ci].Utilisation = iv.CDNs[ci].DeliveredGbps / cdn.CommitGbps
		}
	}
	b.series.Intervals = append(b.series.Intervals, iv)
	b.reset()
}
