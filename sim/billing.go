package sim

import (
	"slices"
	"time"
)

// Billing models a CDN contract may have.
const (
	// BillingP95 is burstable billing: the 95th percentile of the
	// 5-minute averages of delivered traffic, never less than the commit.
	BillingP95 = "p95"
	// BillingVolume bills the bytes delivered, never less than the commit.
	BillingVolume = "volume"
)

// BillingSample is the window burstable billing averages delivered
// traffic over before it takes the percentile: CDNs read their counters
// every five minutes.
const BillingSample = 5 * time.Minute

// Billing is how a CDN bills the traffic of the period the scenario
// covers. Prices are for that period as a whole: a scenario of one
// three-hour match is priced as the event is contracted, and one that
// rehearses a month would be priced by the month.
type Billing struct {
	// Model is BillingP95 or BillingVolume.
	Model string
	// CommitGbps (p95) or CommitTB (volume) is what is paid for whether
	// it is used or not; the other is 0.
	CommitGbps float64
	CommitTB   float64
	// Price is per Gbit/s or per TB of commit, OveragePrice per Gbit/s or
	// TB billed above it.
	Price        float64
	OveragePrice float64
}

// BillingSummary is what one CDN's billing makes of the run.
type BillingSummary struct {
	Model string `json:"model"`
	// Unit is "Gbit/s" under p95 and "TB" (10^12 bytes) under volume:
	// the unit of Commit, Used, Billable and Overage.
	Unit   string  `json:"unit"`
	Commit float64 `json:"commit"`
	// Used is the p95 rate or the volume delivered; Billable is what is
	// billed, at least the commit; Overage what of it is over the commit.
	Used     float64 `json:"used"`
	Billable float64 `json:"billable"`
	Overage  float64 `json:"overage"`
	// The event's cost: the commit's and the overage's.
	CommitCost  float64 `json:"commit_cost"`
	OverageCost float64 `json:"overage_cost"`
	Cost        float64 `json:"cost"`
	// ExceedAudience is the peak audience at which Used would pass the
	// commit if the audience curve were scaled and every CDN kept the
	// share of it that it had in this run (see exceedAudience); 0 when it
	// never would (nothing delivered, or no commit).
	ExceedAudience float64 `json:"exceed_audience"`
}

// P95 is the billable rate of burstable billing over samples: sorted, the
// top 5 % of them (rounded down) are dropped and the highest left is
// billed. Under 20 samples none is dropped. 0 without samples.
func P95(samples []float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return s[len(s)-1-len(s)/20]
}

// bill prices what was used: the p95 rate in Gbit/s, or the volume in TB,
// as the model reads it.
func (b *Billing) bill(p95Gbps, deliveredTB float64, peakAudience int64) BillingSummary {
	s := BillingSummary{Model: b.Model, Unit: "Gbit/s", Commit: b.CommitGbps, Used: p95Gbps}
	if b.Model == BillingVolume {
		s.Unit, s.Commit, s.Used = "TB", b.CommitTB, deliveredTB
	}
	s.Billable = max(s.Commit, s.Used)
	s.Overage = s.Billable - s.Commit
	s.CommitCost = s.Commit * b.Price
	s.OverageCost = s.Overage * b.OveragePrice
	s.Cost = s.CommitCost + s.OverageCost
	s.ExceedAudience = exceedAudience(s.Commit, s.Used, peakAudience)
	return s
}

// exceedAudience is the peak audience at which a measure that grows in
// proportion to the audience passes commit, given that it was used at
// peak. Scaling the audience curve by k scales every viewer group, so
// with the split held every 5-minute sample, their p95 and the volume
// all scale by k, and the commit is passed at k = commit / used. What
// this leaves out: the engine sheds from a CDN nearing the commit it
// knows, so that CDN passes later and the others earlier, and traffic
// above a ceiling is not delivered.
func exceedAudience(commit, used float64, peak int64) float64 {
	if commit <= 0 || used <= 0 {
		return 0
	}
	return commit / used * float64(peak)
}

// meter keeps what billing reads of each capacity row of the summary
// (every CDN, then every regional commit): the 5-minute averages of its
// delivered traffic and the volume delivered.
type meter struct {
	sc      *Scenario
	stepSec float64
	bucket  int64 // the sample window being filled
	rows    []meterRow
	// regional maps region × CDN to a row, or -1, in the order of the
	// summary's Regional rows.
	regional [][]int
}

type meterRow struct {
	sum     float64 // delivered Gbit/s summed over the window's steps
	steps   int
	samples []float64
	gbits   float64 // delivered, in all
}

func newMeter(sc *Scenario) *meter {
	m := &meter{sc: sc, stepSec: sc.Step.Seconds(), rows: make([]meterRow, len(sc.CDNs))}
	for ri := range sc.Regions {
		row := make([]int, len(sc.CDNs))
		for ci, c := range sc.CDNs {
			row[ci] = -1
			if c.Regions[ri].CommitGbps > 0 {
				row[ci] = len(m.rows)
				m.rows = append(m.rows, meterRow{})
			}
		}
		m.regional = append(m.regional, row)
	}
	return m
}

// add takes in one step. A step counts in the window it starts in.
func (m *meter) add(st *Step) {
	if b := int64(st.Elapsed / BillingSample); b != m.bucket {
		m.close()
		m.bucket = b
	}
	for ci := range m.sc.CDNs {
		total := 0.0
		for ri := range m.sc.Regions {
			g := st.DeliveredGbps[ri][ci]
			total += g
			if i := m.regional[ri][ci]; i >= 0 {
				m.rows[i].take(g, m.stepSec)
			}
		}
		m.rows[ci].take(total, m.stepSec)
	}
}

func (r *meterRow) take(gbps, stepSec float64) {
	r.sum += gbps
	r.steps++
	r.gbits += gbps * stepSec
}

// close ends the window being filled; a window no step started in (a step
// longer than a window) is no sample.
func (m *meter) close() {
	for i := range m.rows {
		r := &m.rows[i]
		if r.steps > 0 {
			r.samples = append(r.samples, r.sum/float64(r.steps))
		}
		r.sum, r.steps = 0, 0
	}
}

// finish closes the last window, partial as it may be (the event ends
// there), and writes each row's p95 and, for a CDN that has billing, the
// bill into s.
func (m *meter) finish(s Summary) Summary {
	m.close()
	for ci, c := range m.sc.CDNs {
		r := &m.rows[ci]
		cs := &s.CDNs[ci]
		cs.P95Gbps, cs.samples = P95(r.samples), r.samples
		if c.Billing == nil {
			continue
		}
		// Gbit to TB: 8 bits a byte, 1000 GB a TB.
		b := c.Billing.bill(cs.P95Gbps, r.gbits/8/1000, s.PeakAudience)
		cs.Billing, cs.Cost = &b, &b.Cost
	}
	k := 0
	for ri := range m.regional {
		for _, i := range m.regional[ri] {
			if i >= 0 {
				s.Regional[k].P95Gbps = P95(m.rows[i].samples)
				k++
			}
		}
	}
	return s
}
