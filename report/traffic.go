package report

import (
	"slices"
	"sort"
	"time"
)

// Place is one CDN in one region; Region "" is the CDN in all regions.
type Place struct{ Region, CDN string }

// Traffic is what an event delivered, per region and CDN, at equal steps:
// from Prometheus for a real event (FetchTraffic), from a rehearsal's
// output for its forecast (ReadRehearsal). The report's traffic sections
// read only this, so both give the same page.
type Traffic struct {
	// Source says where the numbers came from, for the page.
	Source string
	// Start and End bound the series; Step is their resolution, each
	// point standing for the step that begins at it.
	Start time.Time
	End   time.Time
	Step  time.Duration
	// Delivered is Gbit/s by place. Every CDN with regional series has
	// an all-regions one too (their sum unless measured on its own).
	Delivered map[Place][]Point
	// Commit is Gbit/s by place, where known.
	Commit map[Place]float64
	// Viewers on each regional place; empty when unknown.
	Viewers map[Place][]Point
	// Answers are the DNS answers served over the event by place
	// (cdnsteer's counters), AnswerRate answers/s by CDN over time.
	Answers    map[Place]float64
	AnswerRate map[string][]Point
	// QoE is each QoE metric's series by place.
	QoE map[string]map[Place][]Point
	// Missing says, by section ID, what could not be built and why.
	Missing map[string][]string
}

// NewTraffic is an empty Traffic over [start, end] at step.
func NewTraffic(source string, start, end time.Time, step time.Duration) *Traffic {
	return &Traffic{Source: source, Start: start, End: end, Step: step,
		Delivered: map[Place][]Point{}, Commit: map[Place]float64{}, Viewers: map[Place][]Point{},
		Answers: map[Place]float64{}, AnswerRate: map[string][]Point{}, QoE: map[string]map[Place][]Point{},
		Missing: map[string][]string{}}
}

// Section IDs of the traffic part of the report, as Missing keys them.
const (
	SecTraffic      = "traffic"
	SecBilling      = "billing"
	SecAnswers      = "answers"
	SecQoE          = "qoe"
	SecDegradations = "degradations"
	SecForecast     = "forecast"
)

// Miss notes that section could not be built, or only in part.
func (tr *Traffic) Miss(section, why string) {
	if !slices.Contains(tr.Missing[section], why) {
		tr.Missing[section] = append(tr.Missing[section], why)
	}
}

// CDNs are the CDNs with a delivered series, sorted.
func (tr *Traffic) CDNs() []string {
	set := map[string]bool{}
	for p := range tr.Delivered {
		set[p.CDN] = true
	}
	for p := range tr.Answers {
		set[p.CDN] = true
	}
	return sortedSet(set)
}

// Regions are the regions with a delivered series, sorted.
func (tr *Traffic) Regions() []string {
	set := map[string]bool{}
	for p := range tr.Delivered {
		if p.Region != "" {
			set[p.Region] = true
		}
	}
	return sortedSet(set)
}

// fillTotals gives every CDN that has only regional series an
// all-regions series: their sum at each time.
func (tr *Traffic) fillTotals() {
	sums := map[string]map[time.Time]float64{}
	for p, pts := range tr.Delivered {
		if p.Region == "" {
			continue
		}
		if _, ok := tr.Delivered[Place{"", p.CDN}]; ok {
			continue
		}
		if sums[p.CDN] == nil {
			sums[p.CDN] = map[time.Time]float64{}
		}
		for _, pt := range pts {
			sums[p.CDN][pt.T] += pt.V
		}
	}
	for cdn, byT := range sums {
		pts := make([]Point, 0, len(byT))
		for t, v := range byT {
			pts = append(pts, Point{t, v})
		}
		sort.Slice(pts, func(i, j int) bool { return pts[i].T.Before(pts[j].T) })
		tr.Delivered[Place{"", cdn}] = pts
	}
}

// At is the value of pts at t: the last point at or before t, as long as
// it is within a step of t. ok is false before the series or in a gap.
func (tr *Traffic) At(pts []Point, t time.Time) (float64, bool) {
	i := sort.Search(len(pts), func(i int) bool { return pts[i].T.After(t) })
	if i == 0 {
		return 0, false
	}
	p := pts[i-1]
	if t.Sub(p.T) >= tr.Step && tr.Step > 0 {
		return 0, false
	}
	return p.V, true
}
