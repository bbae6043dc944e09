package report

import (
	"fmt"
	"math"
	"time"
)

func regionOrAll(r string) string {
	if r == "" {
		return "all"
	}
	return r
}

// trafficSection is delivered Gbit/s against the commit: a table of the
// figures of each CDN (in all, then by region) and a chart for all
// regions and for each region.
func (v *trafficView) trafficSection() Section {
	s := Section{ID: SecTraffic, Title: "Delivered traffic against the commits"}
	s.Paragraphs = v.missing(SecTraffic)
	if len(v.tr.Delivered) == 0 {
		return s
	}
	s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Delivered Gbit/s every %s from %s. Dashed lines are the commits; shaded, a CDN degraded in the region (as the decision log has it). "+
		"p95 is the burstable rate: the %s averages from the start, the top 5 %% dropped. Minutes over commit count the steps above it. "+
		"Viewer-minutes impaired: viewers on a CDN while it was degraded in their region.", Duration(v.tr.Step), v.tr.Source, Duration(v.m.Window())))
	t := &Table{ID: "traffic-table", Caption: "Delivered traffic per CDN and region",
		Head:    []string{"cdn", "region", "commit Gbit/s", "peak Gbit/s", "peak at", "p95 Gbit/s", "min over commit", "delivered TB", "viewer-minutes impaired"},
		Numeric: []bool{false, false, true, true, false, true, true, true, true}}
	for _, p := range v.places() {
		f := v.tr.Figures(p, v.m, v.tl)
		commit := "—"
		if f.Commit > 0 {
			commit = Fixed(f.Commit, 1)
		}
		t.Rows = append(t.Rows, []string{p.CDN, regionOrAll(p.Region), commit, Fixed(f.Peak, 1), Clock(f.PeakAt), Fixed(f.P95, 1),
			Fixed(f.MinutesOver, 1), Fixed(f.Gbit/8/1000, 2), orDash(f.ViewerMinutesImpaired, Int)})
	}
	if len(v.tr.Viewers) == 0 {
		t.Note = "No viewer counts: viewer-minutes impaired are unknown."
	}
	s.Blocks = append(s.Blocks, Block{Table: t})
	s.Blocks = append(s.Blocks, Block{Chart: v.deliveredChart("")})
	for _, r := range v.tr.Regions() {
		s.Blocks = append(s.Blocks, Block{Chart: v.deliveredChart(r)})
	}
	return s
}

// deliveredChart draws each CDN's delivered traffic in region ("": all)
// with its commit.
func (v *trafficView) deliveredChart(region string) *Chart {
	id, title := "delivered-all", "Delivered Gbit/s, all regions"
	if region != "" {
		id, title = "delivered-"+slug(region), "Delivered Gbit/s, "+region
	}
	c := &Chart{ID: id, Title: title, Unit: "Gbit/s", Start: v.tr.Start, End: v.tr.End, Steps: true}
	for _, cdn := range v.cdns {
		p := Place{region, cdn}
		pts, ok := v.tr.Delivered[p]
		if !ok {
			continue
		}
		c.Series = append(c.Series, Series{Name: cdn, Color: v.color(cdn), Points: pts})
		if cm := v.tr.Commit[p]; cm > 0 {
			c.Refs = append(c.Refs, Ref{V: cm, Label: cdn + " commit", Color: v.color(cdn)})
		}
		if region != "" {
			for _, sp := range degradedIn(v.tl, p) {
				c.Bands = append(c.Bands, Band{From: sp.From, To: sp.To, Label: cdn + " degraded", Color: v.color(cdn)})
			}
		}
	}
	return c
}

// billingSection prices each CDN's delivered traffic under its terms.
func (v *trafficView) billingSection() Section {
	s := Section{ID: SecBilling, Title: "Billing"}
	s.Paragraphs = v.missing(SecBilling)
	if len(v.tr.Delivered) == 0 {
		return s
	}
	t := &Table{ID: "billing-table", Caption: "What each CDN bills for the event",
		Head:    []string{"cdn", "model", "commit", "p95 Gbit/s", "billable", "overage", "commit cost", "overage cost", "event cost"},
		Numeric: []bool{false, false, true, true, true, true, true, true, true}}
	c := &Chart{ID: "billing-samples", Title: fmt.Sprintf("Delivered traffic, %s averages (what p95 billing samples)", Duration(v.m.Window())),
		Unit: "Gbit/s", Start: v.tr.Start, End: v.tr.End, Steps: true}
	total, billed := 0.0, 0
	for _, cdn := range v.cdns {
		f := v.tr.Figures(Place{"", cdn}, v.m, v.tl)
		if len(f.Samples) == 0 {
			continue
		}
		row := []string{cdn, "none", "—", Fixed(f.P95, 1), "—", "—", "—", "—", "—"}
		if b := f.Bill; b != nil {
			unit := func(x float64) string { return Fixed(x, 1) + " " + b.Unit }
			row[1], row[2], row[4], row[5] = b.Model, unit(b.Commit), unit(b.Billable), unit(b.Overage)
			if b.Unit != "Gbit/s" {
				row[1] += " (" + unit(b.Used) + " delivered)"
			}
			row[6], row[7], row[8] = Fixed(b.CommitCost, 2), Fixed(b.OverageCost, 2), Fixed(b.Cost, 2)
			total += b.Cost
			billed++
			if b.Unit == "Gbit/s" && b.Commit > 0 {
				c.Refs = append(c.Refs, Ref{V: b.Commit, Label: cdn + " billing commit", Color: v.color(cdn)})
			}
		}
		t.Rows = append(t.Rows, row)
		ser := Series{Name: cdn, Color: v.color(cdn)}
		for i, x := range f.Samples {
			ser.Points = append(ser.Points, Point{v.tr.Start.Add(v.m.Window() * time.Duration(i)), x})
		}
		if n := len(f.Samples); n > 0 {
			ser.Points = append(ser.Points, Point{v.tr.End, f.Samples[n-1]})
		}
		c.Series = append(c.Series, ser)
	}
	if billed == 0 {
		s.Paragraphs = append(s.Paragraphs, "Missing: no billing terms for any CDN ([cdn.NAME.billing] of the rehearsal's scenario): p95 rates only.")
	}
	t.Rows = append(t.Rows, []string{"all", "", "", "", "", "", "", "", Fixed(total, 2)})
	s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Billed as the rehearsal bills: p95 is the %s averages of each CDN's delivered traffic from %s UTC, sorted, the top 5 %% (rounded down) dropped, never less than the commit; volume is the terabytes delivered (10¹² bytes), never less than the commit.",
		Duration(v.m.Window()), stamp(v.tr.Start)))
	s.Blocks = []Block{{Table: t}, {Chart: c}}
	return s
}

// answerSection is the steered answers per CDN from cdnsteer's counters.
func (v *trafficView) answerSection() Section {
	s := Section{ID: SecAnswers, Title: "DNS answers served per CDN"}
	s.Paragraphs = v.missing(SecAnswers)
	if len(v.tr.Answers) == 0 && len(v.tr.AnswerRate) == 0 {
		return s
	}
	regions := map[string]bool{}
	byCDN := map[string]float64{}
	total := 0.0
	for p, n := range v.tr.Answers {
		regions[p.Region] = true
		byCDN[p.CDN] += n
		total += n
	}
	rs := sortedSet(regions)
	t := &Table{ID: "answers-table", Caption: "Steered answers (cdnsteer_dns_answers_total), by region", Head: []string{"cdn", "answers", "share"}, Numeric: []bool{false, true, true}}
	for _, r := range rs {
		t.Head = append(t.Head, regionOrAll(r))
		t.Numeric = append(t.Numeric, true)
	}
	for _, cdn := range v.cdns {
		if _, ok := byCDN[cdn]; !ok {
			continue
		}
		share := 0.0
		if total > 0 {
			share = byCDN[cdn] / total
		}
		row := []string{cdn, Int(byCDN[cdn]), Percent(share)}
		for _, r := range rs {
			row = append(row, Int(v.tr.Answers[Place{r, cdn}]))
		}
		t.Rows = append(t.Rows, row)
	}
	s.Paragraphs = append(s.Paragraphs, "Counted by cdnsteer itself: the increase of its answer counters over the range (all instances and policies), and their rate over time.")
	c := &Chart{ID: "answers-rate", Title: "Steered answers per second", Unit: "answers/s", Stacked: true, Start: v.tr.Start, End: v.tr.End}
	for _, cdn := range v.cdns {
		if pts, ok := v.tr.AnswerRate[cdn]; ok {
			c.Series = append(c.Series, Series{Name: cdn, Color: v.color(cdn), Points: pts})
		}
	}
	s.Blocks = []Block{{Table: t}}
	if len(c.Series) > 0 {
		s.Blocks = append(s.Blocks, Block{Chart: c})
	}
	return s
}

// mean and highest of a series.
func meanMax(pts []Point) (float64, float64) {
	if len(pts) == 0 {
		return math.NaN(), math.NaN()
	}
	sum, hi := 0.0, math.Inf(-1)
	for _, p := range pts {
		sum += p.V
		hi = math.Max(hi, p.V)
	}
	return sum / float64(len(pts)), hi
}
