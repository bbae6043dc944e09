package report

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// afterDegraded are the moments after a degradation at which the report
// says how much traffic was still on the CDN.
var afterDegraded = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute}

// qoeSection charts each QoE metric per region, a line per CDN.
func (v *trafficView) qoeSection() Section {
	s := Section{ID: SecQoE, Title: "Viewer QoE"}
	s.Paragraphs = v.missing(SecQoE)
	if len(v.tr.QoE) == 0 {
		return s
	}
	metrics := make([]string, 0, len(v.tr.QoE))
	for m := range v.tr.QoE {
		metrics = append(metrics, m)
	}
	slices.Sort(metrics)
	t := &Table{ID: "qoe-table", Caption: "QoE by CDN and region over the event", Head: []string{"metric", "region", "cdn", "mean", "highest"},
		Numeric: []bool{false, false, false, true, true}}
	var charts []Block
	for _, m := range metrics {
		byRegion := map[string]bool{}
		for p := range v.tr.QoE[m] {
			byRegion[p.Region] = true
		}
		for _, r := range sortedSet(byRegion) {
			c := &Chart{ID: "qoe-" + slug(m) + "-" + slug(regionOrAll(r)), Title: m + ", " + regionOrAll(r), Start: v.tr.Start, End: v.tr.End}
			for _, cdn := range v.cdns {
				pts, ok := v.tr.QoE[m][Place{r, cdn}]
				if !ok {
					continue
				}
				mean, hi := meanMax(pts)
				t.Rows = append(t.Rows, []string{m, regionOrAll(r), cdn, Fixed(mean, 3), Fixed(hi, 3)})
				c.Series = append(c.Series, Series{Name: cdn, Color: v.color(cdn), Points: pts})
				for _, sp := range degradedIn(v.tl, Place{r, cdn}) {
					c.Bands = append(c.Bands, Band{From: sp.From, To: sp.To, Label: cdn + " degraded", Color: v.color(cdn)})
				}
			}
			charts = append(charts, Block{Chart: c})
		}
	}
	s.Blocks = append([]Block{{Table: t}}, charts...)
	return s
}

// degradationSection follows each degradation: when it began, when the
// region's split moved off the CDN, and the traffic still on it later.
func (v *trafficView) degradationSection() Section {
	s := Section{ID: SecDegradations, Title: "Degradations and the traffic left on the CDN"}
	s.Paragraphs = v.missing(SecDegradations)
	var ds []health.Decision
	for _, d := range v.tl.States {
		if d.To == string(health.Degraded) {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		s.Paragraphs = append(s.Paragraphs, "No CDN was declared degraded.")
		return s
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Time.Before(ds[j].Time) })
	t := &Table{ID: "degradation-table", Caption: "Each degradation: the split's move and the delivered Gbit/s left on the CDN (share of what it had the step before)",
		Head:    []string{"degraded at", "region", "cdn", "split moved at", "after", "its share", "Gbit/s the step before"},
		Numeric: []bool{false, false, false, false, true, false, true}}
	for _, a := range afterDegraded {
		t.Head = append(t.Head, "after "+Duration(a))
		t.Numeric = append(t.Numeric, true)
	}
	for i, d := range ds {
		if i == MaxStateRows {
			t.Note = fmt.Sprintf("… and %d more degradations in the decision log.", len(ds)-MaxStateRows)
			break
		}
		rk := RegionKey{d.Policy, d.Region}
		row := []string{Clock(d.Time), v.tl.regionLabel(rk), d.CDN}
		if at, before, after, ok := v.tl.splitMove(rk, d.CDN, d.Time); ok {
			row = append(row, Clock(at), Duration(at.Sub(d.Time)), Percent(before)+" → "+Percent(after))
		} else {
			row = append(row, "not moved", "—", "—")
		}
		pts := v.tr.Delivered[Place{d.Region, d.CDN}]
		// The step before: the one it falls in already holds some of
		// what followed.
		start, ok := v.tr.At(pts, d.Time.Add(-v.tr.Step))
		row = append(row, cell(start, ok))
		for _, a := range afterDegraded {
			x, ok := v.tr.At(pts, d.Time.Add(a))
			c := cell(x, ok)
			if ok && start > 0 {
				c += " (" + Percent(x/start) + ")"
			}
			row = append(row, c)
		}
		t.Rows = append(t.Rows, row)
	}
	s.Paragraphs = append(s.Paragraphs, "A dash: no delivered traffic measured for the CDN in the region at that moment (out of the range, or no series).")
	s.Blocks = []Block{{Table: t}}
	return s
}

func cell(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return Fixed(v, 1)
}

// splitMove is the first logged move of the region's split, at or after
// from, that took share away from cdn: when, and its share before and
// after. ok is false when the split never moved off it.
func (tl *Timeline) splitMove(rk RegionKey, cdn string, from time.Time) (time.Time, float64, float64, bool) {
	hist := tl.Shares[rk]
	before := -1.0
	for _, h := range hist {
		if h.T.Before(from) {
			before = h.Shares[cdn]
			continue
		}
		if before < 0 {
			// No split logged before: the first one is the reference.
			before = h.Shares[cdn]
			continue
		}
		if h.Shares[cdn] < before-0.005 {
			return h.T, before, h.Shares[cdn], true
		}
	}
	return time.Time{}, 0, 0, false
}

// forecastSection sets a rehearsal's figures beside the event's, per CDN,
// and draws both on the event's clock (the rehearsal shifted to start
// when the event's range does).
func (v *trafficView) forecastSection(fv *trafficView) Section {
	s := Section{ID: SecForecast, Title: "Forecast vs actual"}
	s.Paragraphs = append(v.missing(SecForecast), fv.missing(SecForecast)...)
	s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Forecast: %s (%s to %s UTC, every %s); actual: %s. Both are computed the same way from their series; the forecast is drawn from the start of the actual range.",
		fv.tr.Source, stamp(fv.tr.Start), stamp(fv.tr.End), Duration(fv.tr.Step), v.tr.Source))
	t := &Table{ID: "forecast-table", Caption: "Forecast vs actual, per CDN in all regions",
		Head: []string{"cdn", "peak Gbit/s forecast", "actual", "p95 Gbit/s forecast", "actual", "min over commit forecast", "actual",
			"viewer-minutes impaired forecast", "actual", "event cost forecast", "actual"},
		Numeric: []bool{false, true, true, true, true, true, true, true, true, true, true}}
	c := &Chart{ID: "forecast-vs-actual", Title: "Delivered Gbit/s, all regions: actual (solid) and forecast (dashed)", Unit: "Gbit/s",
		Start: v.tr.Start, End: v.tr.End, Steps: true}
	shift := v.tr.Start.Sub(fv.tr.Start)
	cost := func(f CDNFigures) string {
		if f.Bill == nil {
			return "—"
		}
		return Fixed(f.Bill.Cost, 2)
	}
	for _, cdn := range unionCDNs(v.cdns, fv.cdns) {
		p := Place{"", cdn}
		_, inA := v.tr.Delivered[p]
		_, inF := fv.tr.Delivered[p]
		if !inA && !inF {
			continue
		}
		a, f := v.tr.Figures(p, v.m, v.tl), fv.tr.Figures(p, fv.m, fv.tl)
		side := func(x CDNFigures, in bool, format func(CDNFigures) string) string {
			if !in {
				return "—"
			}
			return format(x)
		}
		peak := func(x CDNFigures) string { return Fixed(x.Peak, 1) }
		p95 := func(x CDNFigures) string { return Fixed(x.P95, 1) }
		over := func(x CDNFigures) string { return Fixed(x.MinutesOver, 1) }
		vmi := func(x CDNFigures) string { return orDash(x.ViewerMinutesImpaired, Int) }
		t.Rows = append(t.Rows, []string{cdn, side(f, inF, peak), side(a, inA, peak), side(f, inF, p95), side(a, inA, p95),
			side(f, inF, over), side(a, inA, over), side(f, inF, vmi), side(a, inA, vmi), side(f, inF, cost), side(a, inA, cost)})
		if inA {
			c.Series = append(c.Series, Series{Name: cdn + " actual", Color: v.color(cdn), Points: v.tr.Delivered[p]})
		}
		if inF {
			fs := Series{Name: cdn + " forecast", Color: v.color(cdn), Dashed: true}
			for _, pt := range fv.tr.Delivered[p] {
				fs.Points = append(fs.Points, Point{pt.T.Add(shift), pt.V})
			}
			c.Series = append(c.Series, fs)
		}
	}
	s.Blocks = []Block{{Table: t}, {Chart: c}}
	return s
}
