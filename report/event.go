package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Event is what a post-event report is built from: the decision log and,
// when asked for, the traffic (from Prometheus, or a rehearsal's output)
// and a rehearsal's forecast to set beside it.
type Event struct {
	Decisions []health.Decision
	// Skipped is how many log lines did not parse; Source names the logs.
	Skipped int
	Source  string
	// LogNotes are about the logs themselves (from different policies),
	// shown in the decision log's section.
	LogNotes []string
	// Traffic is nil when no traffic was asked for.
	Traffic *Traffic
	// Forecast is a rehearsal's traffic and ForecastLog its decisions;
	// nil when there is none.
	Forecast    *Traffic
	ForecastLog []health.Decision
	// Meter is the billing model; nil bills nothing.
	Meter Meter
	// Title overrides the page's title.
	Title string
}

// Document builds the page: the decision log's report, with the traffic
// sections before its timeline when there is traffic.
func (e *Event) Document() *Document {
	if e.Meter == nil {
		e.Meter = noMeter{}
	}
	doc := PostEvent(e.Decisions, e.Skipped, e.Source)
	if e.Title != "" {
		doc.Title = e.Title
	}
	tl := Analyze(e.Decisions, time.Time{})
	if len(e.Decisions) == 0 {
		doc.Subtitle = "No decision in " + e.Source + ": the timeline is empty."
		doc.Figures = nil
	}
	if len(e.LogNotes) > 0 && len(doc.Sections) > 0 {
		doc.Sections[0].Paragraphs = append(doc.Sections[0].Paragraphs, e.LogNotes...)
	}
	if e.Traffic == nil {
		return doc
	}
	tr := e.Traffic
	v := &trafficView{tr: tr, tl: tl, m: e.Meter, cdns: unionCDNs(tr.CDNs(), tl.CDNs)}
	doc.Subtitle += fmt.Sprintf(" Traffic from %s, %s to %s UTC at a %s step.", tr.Source, stamp(tr.Start), stamp(tr.End), Duration(tr.Step))
	doc.Figures = append(doc.Figures, v.figures()...)
	secs := []Section{v.trafficSection(), v.billingSection(), v.answerSection(), v.qoeSection(), v.degradationSection()}
	if e.Forecast != nil {
		ftl := Analyze(e.ForecastLog, time.Time{})
		secs = append(secs, v.forecastSection(&trafficView{tr: e.Forecast, tl: ftl, m: e.Meter, cdns: v.cdns}))
	}
	doc.Sections = append(secs, doc.Sections...)
	return doc
}

// trafficView is one Traffic and the timeline it is read with.
type trafficView struct {
	tr   *Traffic
	tl   *Timeline
	m    Meter
	cdns []string
}

// missing are the section's notes, each as a paragraph.
func (v *trafficView) missing(id string) []string {
	var out []string
	for _, why := range v.tr.Missing[id] {
		out = append(out, "Missing: "+why+".")
	}
	return out
}

func (v *trafficView) color(cdn string) string { return CDNColor(v.cdns, cdn) }

func (v *trafficView) figures() []Figure {
	var out []Figure
	total, billed := 0.0, false
	for _, cdn := range v.cdns {
		if f := v.tr.Figures(Place{"", cdn}, v.m, v.tl); f.Bill != nil {
			total += f.Bill.Cost
			billed = true
		}
	}
	if billed {
		out = append(out, Figure{ID: "event-cost", Label: "Event cost", Value: Fixed(total, 0), Raw: total, Note: "under each CDN's billing"})
	}
	if peak, at := v.peakTotal(); peak > 0 {
		out = append(out, Figure{ID: "peak-delivered", Label: "Peak delivered", Value: Gbps(peak), Raw: peak, Note: "all CDNs at " + Clock(at)})
	}
	if len(v.tr.Answers) > 0 {
		n := 0.0
		for _, a := range v.tr.Answers {
			n += a
		}
		out = append(out, Figure{ID: "answers", Label: "Answers served", Value: Int(n), Raw: n, Note: "steered DNS answers"})
	}
	return out
}

// peakTotal is the highest sum over the CDNs' all-regions series.
func (v *trafficView) peakTotal() (float64, time.Time) {
	sum := map[time.Time]float64{}
	for p, pts := range v.tr.Delivered {
		if p.Region == "" {
			for _, pt := range pts {
				sum[pt.T] += pt.V
			}
		}
	}
	peak, at := 0.0, time.Time{}
	for t, s := range sum {
		if s > peak || (s == peak && t.Before(at)) {
			peak, at = s, t
		}
	}
	return peak, at
}

// places are the CDNs in all regions, then each region's, sorted.
func (v *trafficView) places() []Place {
	var out []Place
	for _, cdn := range v.cdns {
		if _, ok := v.tr.Delivered[Place{"", cdn}]; ok {
			out = append(out, Place{"", cdn})
		}
	}
	for _, r := range v.tr.Regions() {
		for _, cdn := range v.cdns {
			if _, ok := v.tr.Delivered[Place{r, cdn}]; ok {
				out = append(out, Place{r, cdn})
			}
		}
	}
	return out
}

// noMeter bills nothing and takes the highest sample as the rate.
type noMeter struct{}

func (noMeter) Window() time.Duration { return 5 * time.Minute }
func (noMeter) Samples(time.Time, []Point) []float64 {
	return nil
}
func (noMeter) P95([]float64) float64                        { return 0 }
func (noMeter) Bill(string, []float64, float64) (Bill, bool) { return Bill{}, false }

func unionCDNs(a, b []string) []string {
	out := slices.Clone(a)
	for _, c := range b {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// orDash formats v, or a dash when it is unknown (NaN).
func orDash(v float64, format func(float64) string) string {
	if math.IsNaN(v) {
		return "—"
	}
	return format(v)
}

// PolicyNotes says when logs of a fleet come from different policies:
// their timelines are merged all the same, and the report says so.
func PolicyNotes(names []string, logs [][]health.Decision) []string {
	sets := make([]string, len(logs))
	for i, l := range logs {
		seen := map[string]bool{}
		for _, d := range l {
			if d.Policy != "" {
				seen[d.Policy] = true
			}
			for _, c := range d.States {
				seen[c.Policy] = true
			}
		}
		sets[i] = strings.Join(sortedSet(seen), ", ")
	}
	for i := range sets {
		if sets[i] != sets[0] {
			var parts []string
			for j, s := range sets {
				if s == "" {
					s = "none"
				}
				parts = append(parts, fmt.Sprintf("%s: %s", names[j], s))
			}
			return []string{"The logs are from different policies (" + strings.Join(parts, "; ") +
				"): their decisions are merged into one timeline, by policy where they name one; the instances did not steer the same way."}
		}
	}
	return nil
}
