package report

import (
	"math"
	"time"
)

// Meter is the billing model, handed in by the caller: the simulator's
// (sim.MeasuredBilling), so that an event is billed as its rehearsal was.
// The report cannot import the simulator, which imports it.
type Meter interface {
	// Window is how long each billing sample averages.
	Window() time.Duration
	// Samples are the windows' averages of a delivered series (Gbit/s)
	// from start.
	Samples(start time.Time, pts []Point) []float64
	// P95 is the burstable rate of samples.
	P95(samples []float64) float64
	// Bill prices cdn's traffic (samples, and the volume in Gbit); ok is
	// false when there are no billing terms for cdn.
	Bill(cdn string, samples []float64, gbit float64) (b Bill, ok bool)
}

// Bill is what a CDN bills for the event under its terms. Unit is
// "Gbit/s" (p95) or "TB" (volume): the unit of Commit, Used, Billable and
// Overage.
type Bill struct {
	Model, Unit                     string
	Commit, Used, Billable, Overage float64
	CommitCost, OverageCost, Cost   float64
}

// CDNFigures are one CDN's (or one CDN's in a region) numbers over the
// event: what "forecast vs actual" puts side by side.
type CDNFigures struct {
	Place  Place
	Commit float64 // 0: unknown
	Peak   float64
	PeakAt time.Time
	// P95 is the burstable rate of the Meter's samples.
	P95     float64
	Samples []float64
	// MinutesOver is the time delivered traffic was above the commit.
	MinutesOver float64
	// Gbit is the volume delivered.
	Gbit float64
	// ViewerMinutesImpaired is viewers on the CDN while the decision
	// log had it degraded in their region; NaN when viewers are unknown.
	ViewerMinutesImpaired float64
	Bill                  *Bill
}

// Figures computes the numbers of a place from its delivered series; tl
// (may be nil) gives the degraded stretches for viewer-minutes impaired.
func (tr *Traffic) Figures(p Place, m Meter, tl *Timeline) CDNFigures {
	pts := tr.Delivered[p]
	f := CDNFigures{Place: p, Commit: tr.Commit[p], ViewerMinutesImpaired: math.NaN()}
	step := tr.Step.Minutes()
	for _, pt := range pts {
		if pt.V > f.Peak || f.PeakAt.IsZero() {
			f.Peak, f.PeakAt = pt.V, pt.T
		}
		if f.Commit > 0 && pt.V > f.Commit {
			f.MinutesOver += step
		}
		f.Gbit += pt.V * tr.Step.Seconds()
	}
	f.Samples = m.Samples(tr.Start, pts)
	f.P95 = m.P95(f.Samples)
	if p.Region == "" {
		if b, ok := m.Bill(p.CDN, f.Samples, f.Gbit); ok {
			f.Bill = &b
		}
	}
	if tl != nil {
		f.ViewerMinutesImpaired = tr.impaired(p, tl)
	}
	return f
}

// impaired is the viewer-minutes on p (in all regions, when p.Region is
// "") while the log had it degraded there; NaN without viewers.
func (tr *Traffic) impaired(p Place, tl *Timeline) float64 {
	total, known := 0.0, false
	for vp, pts := range tr.Viewers {
		if vp.CDN != p.CDN || (p.Region != "" && vp.Region != p.Region) || len(pts) == 0 {
			continue
		}
		known = true
		spans := degradedIn(tl, vp)
		for _, pt := range pts {
			for _, sp := range spans {
				if !pt.T.Before(sp.From) && pt.T.Before(sp.To) {
					total += pt.V * tr.Step.Minutes()
					break
				}
			}
		}
	}
	if !known {
		return math.NaN()
	}
	return total
}

// degradedIn are the stretches the CDN was degraded in the region, in any
// of the log's policies (traffic knows no policy).
func degradedIn(tl *Timeline, p Place) []Span {
	var out []Span
	for _, pol := range tl.Policies {
		out = append(out, tl.DegradedSpans(Key{pol, p.Region, p.CDN})...)
	}
	return out
}
