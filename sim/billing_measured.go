package sim

import (
	"time"

	"github.com/cdnsteer/cdnsteer/report"
)

// MeasuredBilling applies the rehearsal's billing to traffic measured
// outside a run — a real event's Prometheus series, a rehearsal's output
// intervals — so that `cdnsteer report` bills an event as `simulate`
// billed its rehearsal: the same windows, percentile, keys and prices.
// It implements report.Meter.
type MeasuredBilling struct {
	terms map[string]*Billing
}

// NewMeasuredBilling takes the billing terms of sc's CDNs; nil sc gives
// the model without terms (p95 rates, no bills).
func NewMeasuredBilling(sc *Scenario) *MeasuredBilling {
	m := &MeasuredBilling{terms: map[string]*Billing{}}
	if sc != nil {
		for _, c := range sc.CDNs {
			if c.Billing != nil {
				m.terms[c.Name] = c.Billing
			}
		}
	}
	return m
}

// Window is BillingSample.
func (m *MeasuredBilling) Window() time.Duration { return BillingSample }

// Samples are the averages of pts (Gbit/s at equal steps) over each
// window from start, as the meter forms them: a point counts in the
// window it falls in, and a window no point falls in is no sample.
func (m *MeasuredBilling) Samples(start time.Time, pts []report.Point) []float64 {
	var out []float64
	bucket, sum, n := int64(-1), 0.0, 0
	for _, p := range pts {
		if p.T.Before(start) {
			continue
		}
		if b := int64(p.T.Sub(start) / BillingSample); b != bucket {
			if n > 0 {
				out = append(out, sum/float64(n))
			}
			bucket, sum, n = b, 0, 0
		}
		sum += p.V
		n++
	}
	if n > 0 {
		out = append(out, sum/float64(n))
	}
	return out
}

// P95 is the package's P95.
func (m *MeasuredBilling) P95(samples []float64) float64 { return P95(samples) }

// Bill prices cdn's traffic under its terms: samples from Samples, gbit
// the volume delivered. ok is false when the scenario gives cdn no
// billing.
func (m *MeasuredBilling) Bill(cdn string, samples []float64, gbit float64) (report.Bill, bool) {
	b := m.terms[cdn]
	if b == nil {
		return report.Bill{}, false
	}
	// No audience curve behind measured traffic: ExceedAudience stays 0.
	s := b.bill(P95(samples), gbit/8/1000, 0)
	return report.Bill{Model: s.Model, Unit: s.Unit, Commit: s.Commit, Used: s.Used, Billable: s.Billable, Overage: s.Overage,
		CommitCost: s.CommitCost, OverageCost: s.OverageCost, Cost: s.Cost}, true
}

// Commits are the scenario's commits by place (all regions, and each
// region's own), Gbit/s, for a report that sets traffic against them.
func (sc *Scenario) Commits() map[report.Place]float64 {
	out := map[report.Place]float64{}
	for _, c := range sc.CDNs {
		if c.CommitGbps > 0 {
			out[report.Place{CDN: c.Name}] = c.CommitGbps
		}
		for ri, r := range c.Regions {
			if r.CommitGbps > 0 {
				out[report.Place{Region: sc.Regions[ri].Name, CDN: c.Name}] = r.CommitGbps
			}
		}
	}
	return out
}
