package sim

import (
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/report"
)

// billed says whether any CDN has billing: the report shows billing only
// then, and is otherwise as it was before billing existed.
func (s *Summary) billed() bool {
	for _, c := range s.CDNs {
		if c.Billing != nil {
			return true
		}
	}
	return false
}

// costFigure is the event's cost over the CDNs that have billing.
func (r *Result) costFigure() report.Figure {
	total, overage := 0.0, 0.0
	for _, c := range r.Summary.CDNs {
		if c.Billing != nil {
			total += c.Billing.Cost
			overage += c.Billing.OverageCost
		}
	}
	return report.Figure{ID: "event-cost", Label: "Event cost", Value: report.Fixed(total, 0), Raw: total,
		Note: "overage " + report.Fixed(overage, 0)}
}

// sampleWindow names BillingSample in the report's prose.
var sampleWindow = fmt.Sprintf("%g-minute", BillingSample.Minutes())

func (r *Result) billingSection() report.Section {
	sc, s := r.Scenario, &r.Summary
	n := len(s.CDNs[0].samples)
	sec := report.Section{ID: "billing", Title: "Billing", Paragraphs: []string{
		fmt.Sprintf("p95: each CDN's delivered traffic averaged over each %s window from the start (%d samples; the last is shorter when the event does not end on one), sorted; the top 5 %% (rounded down: %d of them) are dropped and the highest left is the billable rate, never less than the commit. ",
			sampleWindow, n, n/20) +
			"volume: the terabytes delivered (10¹² bytes), never less than the commit. Prices are for the period the scenario covers; what is billed above the commit is overage. " +
			"Peak and minutes over commit are against the capacity commit of the table above.",
		"Commit passed at: the peak audience at which the billed measure would pass the commit if the audience curve were scaled and every CDN kept its share of the traffic in this run (its 5-minute averages, their p95 and its volume grow in proportion). " +
			"The engine sheds from a CDN nearing the commit it knows, so that CDN would pass later and the others earlier; traffic above a ceiling is not delivered.",
	}}
	t := &report.Table{ID: "billing-table", Caption: "What each CDN bills for the event",
		Head: []string{"cdn", "model", "commit", "p95 Gbit/s", "billable", "overage", "commit cost", "overage cost", "event cost",
			"peak Gbit/s", "min over capacity commit", "commit passed at (peak audience)"},
		Numeric: []bool{false, false, true, true, true, true, true, true, true, true, true, true}}
	total := 0.0
	for _, c := range s.CDNs {
		row := []string{c.CDN, "none", "—", report.Fixed(c.P95Gbps, 1), "—", "—", "—", "—", "—",
			report.Fixed(c.PeakGbps, 1), report.Fixed(c.MinutesOverCommit, 1), "—"}
		if b := c.Billing; b != nil {
			unit := func(v float64) string { return report.Fixed(v, 1) + " " + b.Unit }
			passed := "never"
			if b.ExceedAudience > 0 {
				passed = fmt.Sprintf("%s (×%.2f)", report.Int(b.ExceedAudience), b.ExceedAudience/float64(s.PeakAudience))
			}
			row[1], row[2], row[4], row[5] = b.Model, unit(b.Commit), unit(b.Billable), unit(b.Overage)
			row[6], row[7], row[8], row[11] = report.Fixed(b.CommitCost, 2), report.Fixed(b.OverageCost, 2), report.Fixed(b.Cost, 2), passed
			if b.Model == BillingVolume {
				row[1] += fmt.Sprintf(" (%s delivered)", unit(b.Used))
			}
			total += b.Cost
		}
		t.Rows = append(t.Rows, row)
	}
	t.Rows = append(t.Rows, []string{"all", "", "", "", "", "", "", "", report.Fixed(total, 2), "", "", ""})
	chart := r.chart("billing-samples", fmt.Sprintf("Delivered traffic, %s averages (what p95 billing samples)", sampleWindow), "Gbit/s")
	chart.Steps = true
	for _, c := range s.CDNs {
		ser := report.Series{Name: c.CDN, Color: r.color(c.CDN)}
		for i, v := range c.samples {
			ser.Points = append(ser.Points, report.Point{T: sc.Start.Add(BillingSample * time.Duration(i)), V: v})
		}
		if n := len(c.samples); n > 0 {
			// The last window runs to the end of the event.
			ser.Points = append(ser.Points, report.Point{T: sc.Start.Add(sc.Duration), V: c.samples[n-1]})
		}
		chart.Series = append(chart.Series, ser)
		if b := c.Billing; b != nil && b.Model == BillingP95 && b.Commit > 0 {
			chart.Refs = append(chart.Refs, report.Ref{V: b.Commit, Label: c.CDN + " commit", Color: r.color(c.CDN)})
		}
	}
	sec.Blocks = []report.Block{{Table: t}, {Chart: chart}}
	return sec
}
