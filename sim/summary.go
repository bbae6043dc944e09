package sim

import (
	"strconv"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Seconds is a duration (an offset from the scenario's start, or a delay)
// that goes to JSON as a number of seconds, which charts and scripts
// read more easily than Go's duration strings.
type Seconds time.Duration

// MarshalJSON implements json.Marshaler.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', -1, 64), nil
}

// D is s as a time.Duration.
func (s Seconds) D() time.Duration { return time.Duration(s) }

// Summary is the headline of a run: what an operator reads before
// deciding whether the policy holds for the event.
type Summary struct {
	PeakAudience   int64   `json:"peak_audience"`
	PeakAudienceAt Seconds `json:"peak_audience_at_s"`
	// Viewer-minutes spent on a faulted or saturated CDN, in all and by
	// cause (a viewer on a CDN both faulted and saturated counts once in
	// the total and in both causes).
	ViewerMinutesImpaired  float64 `json:"viewer_minutes_impaired"`
	ViewerMinutesFaulted   float64 `json:"viewer_minutes_faulted"`
	ViewerMinutesSaturated float64 `json:"viewer_minutes_saturated"`
	PeakImpaired           int64   `json:"peak_impaired_viewers"`

	// CDNs has one row per CDN against its whole commit; Regional one per
	// CDN and region that has a commit of its own.
	CDNs     []CapacitySummary `json:"cdns"`
	Regional []CapacitySummary `json:"regional,omitempty"`
	Regions  []RegionSummary   `json:"regions"`
	Faults   []FaultSummary    `json:"faults"`

	// From the decision log: status changes to degraded, and moves of a
	// region's split (the engine logs a move of 2 % of traffic or more).
	Degradations int `json:"degradations"`
	Shifts       int `json:"shifts"`
	Decisions    int `json:"decisions"`
	// FailOpens counts the engine's fail-open decisions: every CDN of a
	// region out, the baseline answering.
	FailOpens int `json:"fail_opens"`

	// ViewerSwitches counts the moves of a viewer from one CDN to
	// another: with their resolver's new answer, at the end of a session
	// or on reloading. Each costs a rebuffer; SwitchesPerViewerHour is
	// them over the event's viewer-hours.
	ViewerSwitches        int64   `json:"viewer_switches"`
	SwitchesPerViewerHour float64 `json:"switches_per_viewer_hour"`

	// Counterfactuals are the same event without the plans, and without
	// the TTL changes, when it has them (compare.go).
	Counterfactuals []Counterfactual `json:"counterfactuals,omitempty"`
}

// CapacitySummary is one CDN's load against its commit, in all or in one
// region.
type CapacitySummary struct {
	CDN         string  `json:"cdn"`
	Region      string  `json:"region,omitempty"`
	CommitGbps  float64 `json:"commit_gbps"`
	CeilingGbps float64 `json:"ceiling_gbps"`
	// BaselineShare is the CDN's part of the traffic (of the region, or
	// of all) under the policy's baseline split.
	BaselineShare   float64 `json:"baseline_share"`
	PeakGbps        float64 `json:"peak_gbps"`
	PeakAt          Seconds `json:"peak_at_s"`
	PeakAudience    int64   `json:"peak_audience"`
	PeakUtilisation float64 `json:"peak_utilisation"`
	// BaselinePeakUtilisation is the utilisation the baseline split alone
	// would reach at the curve's peak audience.
	BaselinePeakUtilisation float64 `json:"baseline_peak_utilisation"`
	MinutesOverCommit       float64 `json:"minutes_over_commit"`
	ViewerMinutesImpaired   float64 `json:"viewer_minutes_impaired"`
	// SaturationAudience is the audience at which the baseline split
	// would fill the commit, computed from the split, the region mix and
	// the bitrates; 0 when it never would. ObservedSaturation is the
	// audience when the simulation first delivered the commit (0: never).
	SaturationAudience   float64 `json:"saturation_audience"`
	ObservedSaturation   int64   `json:"observed_saturation_audience"`
	ObservedSaturationAt Seconds `json:"observed_saturation_at_s"`
	// SheddingAudience is where the engine starts taking new traffic
	// away (capacity_soft of the commit the policy declares), and
	// ObservedShedding when the simulated demand first got there. Both 0
	// when the policy does not give the commit, or for a region.
	SheddingAudience float64 `json:"shedding_audience"`
	ObservedShedding int64   `json:"observed_shedding_audience"`
	// P95Gbps is the 95th percentile of the 5-minute averages of the
	// delivered traffic (P95): what burstable billing bills, billing or
	// not.
	P95Gbps float64 `json:"p95_gbps"`
	// Cost is the event's cost under the CDN's billing, Billing how it
	// came about; both absent when the scenario gives the CDN no billing
	// (and for a region).
	Cost    *float64        `json:"cost,omitempty"`
	Billing *BillingSummary `json:"billing,omitempty"`
	// samples are the 5-minute averages P95Gbps was taken from, for the
	// report's chart.
	samples []float64
}

// RegionSummary is one region's audience and impairment.
type RegionSummary struct {
	Region                string  `json:"region"`
	Share                 float64 `json:"share"`
	PeakViewers           int64   `json:"peak_viewers"`
	ViewerMinutesImpaired float64 `json:"viewer_minutes_impaired"`
}

// FaultSummary is how the policy answered one fault or drain.
type FaultSummary struct {
	Name   string  `json:"name"`
	Kind   string  `json:"kind"` // "fault" or "drain"
	CDN    string  `json:"cdn"`
	Region string  `json:"region,omitempty"`
	Start  Seconds `json:"start_s"`
	End    Seconds `json:"end_s"`
	// ShiftAfter is the time from the start until the CDN's live share
	// (of the new answers in the affected regions) fell to half of what
	// it was; nil when it never did while the fault lasted.
	ShiftAfter *Seconds `json:"shift_after_s"`
	// MovedAfter is the time until 90 % of the viewers it had at the
	// start had left it; nil when they had not by the end.
	MovedAfter *Seconds `json:"moved_after_s"`
	// LowestShare is the least live share it kept, as a part of its
	// share before the fault (0: it got no new answers at all).
	LowestShare           float64 `json:"lowest_share"`
	ViewersAtStart        int64   `json:"viewers_at_start"`
	ViewerMinutesOn       float64 `json:"viewer_minutes_on"`
	ViewerMinutesImpaired float64 `json:"viewer_minutes_impaired"`
}

// countDecisions fills the decision-log counts.
func (s *Summary) countDecisions(ds []health.Decision) {
	s.Decisions = len(ds)
	for _, d := range ds {
		switch {
		case d.Kind == health.DecisionState && d.To == string(health.Degraded):
			s.Degradations++
		case d.Kind == health.DecisionWeights:
			s.Shifts++
		case d.Kind == health.DecisionFailOpen:
			s.FailOpens++
		}
	}
}
