package sim

import (
	"math"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// accumulator builds the Summary step by step, from the full-resolution
// state rather than the output series, so that peaks are not averaged
// away.
type accumulator struct {
	sc      *Scenario
	minutes float64 // one step, in minutes
	// viewerMinutes is the audience summed over the steps, in minutes.
	viewerMinutes float64
	s             Summary
	regional      [][]int // region × CDN → index in s.Regional, or -1
	trackers      []*tracker
}

// tracker follows one fault or drain while it lasts.
type tracker struct {
	sum     *FaultSummary
	cdn     int
	region  int // -1 for all
	started bool
	last    float64 // live share at the previous step
	pre     float64 // live share just before it started
}

func newAccumulator(sc *Scenario) *accumulator {
	a := &accumulator{sc: sc, minutes: sc.Step.Minutes()}
	peak := sc.Curve.Peak()
	for ci, c := range sc.CDNs {
		sat := sc.CDNSaturation(ci)
		cs := CapacitySummary{CDN: c.Name, CommitGbps: c.CommitGbps, CeilingGbps: c.CeilingGbps, BaselineShare: sat.Share,
			SaturationAudience: sat.Audience, SheddingAudience: sat.Shedding}
		if c.CommitGbps > 0 {
			cs.BaselinePeakUtilisation = peak * sat.GbpsPerViewer / c.CommitGbps
		}
		a.s.CDNs = append(a.s.CDNs, cs)
	}
	for ri, r := range sc.Regions {
		a.s.Regions = append(a.s.Regions, RegionSummary{Region: r.Name, Share: r.Share})
		row := make([]int, len(sc.CDNs))
		for ci, c := range sc.CDNs {
			row[ci] = -1
			cr := c.Regions[ri]
			if cr.CommitGbps == 0 {
				continue
			}
			sat := sc.RegionalSaturation(ri, ci)
			row[ci] = len(a.s.Regional)
			a.s.Regional = append(a.s.Regional, CapacitySummary{CDN: c.Name, Region: r.Name, CommitGbps: cr.CommitGbps,
				CeilingGbps: cr.CeilingGbps, BaselineShare: sat.Share, SaturationAudience: sat.Audience,
				BaselinePeakUtilisation: peak * sat.GbpsPerViewer / cr.CommitGbps})
		}
		a.regional = append(a.regional, row)
	}
	for _, f := range sc.Faults {
		a.track(&FaultSummary{Name: f.Name, Kind: "fault", CDN: f.CDN, Region: f.Region, Start: Seconds(f.Start), End: Seconds(f.End)}, f.cdn, f.region)
	}
	for _, o := range sc.Overrides {
		if o.Action != health.ActionDrain {
			continue
		}
		name := "drain " + o.CDN
		if o.Region != "" {
			name += " in " + o.Region
		}
		a.track(&FaultSummary{Name: name + " (operator)", Kind: "drain", CDN: o.CDN, Region: o.Region,
			Start: Seconds(o.At), End: Seconds(o.At + o.Duration)}, sc.Policy.Config.CDNIndex(o.CDN), sc.Policy.Config.RegionIndex(o.Region))
	}
	return a
}

func (a *accumulator) track(fs *FaultSummary, cdn, region int) {
	a.trackers = append(a.trackers, &tracker{sum: fs, cdn: cdn, region: region})
}

// add takes in one step.
func (a *accumulator) add(st *Step) {
	s := &a.s
	a.viewerMinutes += float64(st.Audience) * a.minutes
	if st.Audience > s.PeakAudience {
		s.PeakAudience, s.PeakAudienceAt = st.Audience, Seconds(st.Elapsed)
	}
	impaired := int64(0)
	for ri := range a.sc.Regions {
		rs := &s.Regions[ri]
		rs.PeakViewers = max(rs.PeakViewers, st.RegionViewers[ri])
		for ci := range a.sc.CDNs {
			n := st.Impaired[ri][ci]
			impaired += n
			vm := float64(n) * a.minutes
			rs.ViewerMinutesImpaired += vm
			s.CDNs[ci].ViewerMinutesImpaired += vm
			if st.Faulted[ri][ci] {
				s.ViewerMinutesFaulted += vm
			}
			if st.Saturated[ri][ci] {
				s.ViewerMinutesSaturated += vm
			}
			if i := a.regional[ri][ci]; i >= 0 {
				a.load(&s.Regional[i], st, st.DeliveredGbps[ri][ci], st.DemandGbps[ri][ci], 0)
				s.Regional[i].ViewerMinutesImpaired += vm
			}
		}
	}
	s.ViewerMinutesImpaired += float64(impaired) * a.minutes
	s.PeakImpaired = max(s.PeakImpaired, impaired)
	for ci := range a.sc.CDNs {
		delivered, demand := 0.0, 0.0
		for ri := range a.sc.Regions {
			delivered += st.DeliveredGbps[ri][ci]
			demand += st.DemandGbps[ri][ci]
		}
		a.load(&s.CDNs[ci], st, delivered, demand, a.sc.Policy.Config.CDNs[ci].CommitGbps)
	}
	for _, t := range a.trackers {
		a.follow(t, st)
	}
}

// load updates a capacity row with one step's traffic; known is the
// commit the engine sheds against (0: none).
func (a *accumulator) load(cs *CapacitySummary, st *Step, delivered, demand, known float64) {
	if delivered > cs.PeakGbps {
		cs.PeakGbps, cs.PeakAt, cs.PeakAudience = delivered, Seconds(st.Elapsed), st.Audience
		if cs.CommitGbps > 0 {
			cs.PeakUtilisation = delivered / cs.CommitGbps
		}
	}
	if cs.CommitGbps <= 0 {
		return
	}
	if delivered > cs.CommitGbps {
		cs.MinutesOverCommit += a.minutes
	}
	if cs.ObservedSaturation == 0 && delivered >= cs.CommitGbps {
		cs.ObservedSaturation, cs.ObservedSaturationAt = st.Audience, Seconds(st.Elapsed)
	}
	if known > 0 && cs.ObservedShedding == 0 && demand >= a.sc.Policy.Params.CapacitySoft*known {
		cs.ObservedShedding = st.Audience
	}
}

// follow measures, while a fault or drain lasts, how the live share and
// the viewers of its CDN move.
func (a *accumulator) follow(t *tracker, st *Step) {
	fs := t.sum
	if st.Elapsed >= fs.End.D() || t.cdn < 0 {
		return
	}
	share, weight, viewers, impaired := 0.0, 0.0, int64(0), int64(0)
	for ri, r := range a.sc.Regions {
		if t.region >= 0 && ri != t.region {
			continue
		}
		// Regions count by their part of the audience, so that a shift in
		// a small region does not pass for a shift of the whole CDN.
		w := r.Share
		if t.region >= 0 {
			w = 1
		}
		total := 0.0
		for _, x := range st.Weights[ri] {
			total += x
		}
		if total > 0 {
			share += w * st.Weights[ri][t.cdn] / total
		}
		weight += w
		viewers += st.Viewers[ri][t.cdn]
		impaired += st.Impaired[ri][t.cdn]
	}
	if weight > 0 {
		share /= weight
	}
	if st.Elapsed < fs.Start.D() {
		t.last = share
		return
	}
	since := st.Elapsed - fs.Start.D()
	if !t.started {
		// The share before it began: a drain is in force from its first
		// step on, so this step's share is already the answer to it.
		t.started, t.pre = true, t.last
		if st.Elapsed == 0 {
			t.pre = share
		}
		fs.ViewersAtStart, fs.LowestShare = viewers, 1
	}
	if t.pre > 0 {
		fs.LowestShare = min(fs.LowestShare, share/t.pre)
		if fs.ShiftAfter == nil && share <= t.pre/2 {
			fs.ShiftAfter = seconds(since)
		}
	}
	if fs.MovedAfter == nil && fs.ViewersAtStart > 0 && viewers*10 <= fs.ViewersAtStart {
		fs.MovedAfter = seconds(since)
	}
	fs.ViewerMinutesOn += float64(viewers) * a.minutes
	fs.ViewerMinutesImpaired += float64(impaired) * a.minutes
}

func seconds(d time.Duration) *Seconds {
	s := Seconds(d)
	return &s
}

// summary finishes the summary with the decision-log counts and the
// viewers' switches of CDN.
func (a *accumulator) summary(ds []health.Decision, switches float64) Summary {
	s := a.s
	for _, t := range a.trackers {
		s.Faults = append(s.Faults, *t.sum)
	}
	s.countDecisions(ds)
	s.ViewerSwitches = int64(math.Round(switches))
	if a.viewerMinutes > 0 {
		s.SwitchesPerViewerHour = switches / (a.viewerMinutes / 60)
	}
	return s
}

func regionNames(sc *Scenario) []string {
	out := make([]string, len(sc.Regions))
	for i, r := range sc.Regions {
		out[i] = r.Name
	}
	return out
}
