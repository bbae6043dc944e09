package report

import (
	"sort"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Key names one CDN in one region of one policy.
type Key struct{ Policy, Region, CDN string }

// RegionKey names one region of one policy.
type RegionKey struct{ Policy, Region string }

// Timeline is what a decision log tells about an event: scores, statuses
// and live splits over time, overrides, annotations and the moments the
// engine failed open or held a stale split.
type Timeline struct {
	Start time.Time
	End   time.Time
	// The names the log mentions, sorted.
	Policies []string
	Regions  []string
	CDNs     []string

	// Scores come from state changes and the minutely checkpoints.
	Scores map[Key][]Point
	// Status holds every change of status, oldest first.
	Status map[Key][]StatusAt
	// Shares are each region's split after every logged move, as parts
	// of 1.
	Shares      map[RegionKey][]SharesAt
	Overrides   []OverrideSpan
	Annotations []health.Annotation
	// Escalations are the escalations to Alertmanager, in the order they
	// opened (escalations.go).
	Escalations []EscalationSpan
	// FailOpen and Stale are the stretches a region served its baseline
	// because nothing was left, or held its split for lack of telemetry.
	FailOpen []Span
	Stale    []Span
	// Restarts are warm restarts and policy reloads.
	Restarts []Mark
	// Plans are plan activations and endings and schedules' windows
	// beginning and ending, in log order.
	Plans []health.Decision
	// States are the status changes, for the table of changes.
	States []health.Decision

	Decisions    int
	Degradations map[Key]int
	Shifts       map[RegionKey]int
}

// StatusAt is a status from a moment on.
type StatusAt struct {
	T      time.Time
	Status health.Status
}

// SharesAt is a region's split from a moment on.
type SharesAt struct {
	T      time.Time
	Shares map[string]float64
}

// Span is a stretch of time in one region (Policy or Region empty: all).
type Span struct {
	Policy string
	Region string
	From   time.Time
	To     time.Time
}

// OverrideSpan is an override from when it was set to when it ended
// (expired, deleted, or still in force at the end of the log).
type OverrideSpan struct {
	Override health.Override
	From     time.Time
	To       time.Time
	// Ended is why it ended; empty when the log ends first.
	Ended string
}

// setStatus records a status when it differs from the last one known.
func (tl *Timeline) setStatus(k Key, t time.Time, s health.Status) {
	h := tl.Status[k]
	if len(h) > 0 && h[len(h)-1].Status == s {
		return
	}
	tl.Status[k] = append(h, StatusAt{t, s})
}

// DegradedSpans are the stretches k was degraded.
func (tl *Timeline) DegradedSpans(k Key) []Span {
	var out []Span
	h := tl.Status[k]
	for i, s := range h {
		if s.Status != health.Degraded {
			continue
		}
		to := tl.End
		if i+1 < len(h) {
			to = h[i+1].T
		}
		out = append(out, Span{Policy: k.Policy, Region: k.Region, From: s.T, To: to})
	}
	return out
}

// DegradedTime is how long k was degraded in all.
func (tl *Timeline) DegradedTime(k Key) time.Duration {
	var d time.Duration
	for _, s := range tl.DegradedSpans(k) {
		d += s.To.Sub(s.From)
	}
	return d
}

// RegionKeys are the policy and region pairs the log mentions, sorted.
func (tl *Timeline) RegionKeys() []RegionKey {
	seen := map[RegionKey]bool{}
	for k := range tl.Status {
		seen[RegionKey{k.Policy, k.Region}] = true
	}
	for rk := range tl.Shares {
		seen[rk] = true
	}
	out := make([]RegionKey, 0, len(seen))
	for rk := range seen {
		out = append(out, rk)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Policy != out[j].Policy {
			return out[i].Policy < out[j].Policy
		}
		return out[i].Region < out[j].Region
	})
	return out
}

func appendSpan(spans []Span, open map[RegionKey]time.Time, rk RegionKey, to time.Time) []Span {
	from, ok := open[rk]
	if !ok {
		return spans
	}
	delete(open, rk)
	return append(spans, Span{Policy: rk.Policy, Region: rk.Region, From: from, To: to})
}

// sortSpans orders spans by start, then by name, so that a report built
// twice from one log is the same byte for byte.
func sortSpans(s []Span) {
	sort.Slice(s, func(i, j int) bool {
		if !s[i].From.Equal(s[j].From) {
			return s[i].From.Before(s[j].From)
		}
		if s[i].Policy != s[j].Policy {
			return s[i].Policy < s[j].Policy
		}
		return s[i].Region < s[j].Region
	})
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
