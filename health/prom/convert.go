package prom

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/cdnsteer/cdnsteer/health"
)

// Labels that place a series; every other label is ignored.
const (
	cdnLabel    model.LabelName = "cdn"
	regionLabel model.LabelName = "region"
)

// Reasons a series is dropped, the reason label of
// cdnsteer_prometheus_dropped_series_total.
const (
	dropNoCDN      = "no_cdn"
	dropNotFinite  = "not_finite"
	dropOutOfRange = "out_of_range"
	dropDuplicate  = "duplicate"
	// The series' timestamps query has no series for its place, or one
	// further ahead of the query's instant than clocks can be apart.
	dropNoTimestamp     = "no_timestamp"
	dropFutureTimestamp = "future_timestamp"
)

var dropReasons = []string{dropNoCDN, dropNotFinite, dropOutOfRange, dropDuplicate, dropNoTimestamp, dropFutureTimestamp}

// maxAhead is how far a data timestamp may be after the query's instant
// and still be taken (as the instant): clocks of exporters and of this
// host disagree by that much, not more.
const maxAhead = time.Minute

// place is where a series belongs: a CDN, in a region or ("") in all.
type place struct{ cdn, region string }

// point is one usable series of a query result.
type point struct {
	place
	t time.Time
	v float64
}

// toPoints keeps the usable series of an instant query's result, sorted by
// place, and counts the others by reason.
func toPoints(v model.Value, k *kind) ([]point, map[string]int, error) {
	vec, ok := v.(model.Vector)
	if !ok {
		if v == nil {
			return nil, nil, fmt.Errorf("no result")
		}
		return nil, nil, fmt.Errorf("result is a %s, want a vector", v.Type())
	}
	drops := map[string]int{}
	pts := make([]point, 0, len(vec))
	seen := make(map[place]int, len(vec))
	for _, s := range vec {
		p := place{string(s.Metric[cdnLabel]), string(s.Metric[regionLabel])}
		f := float64(s.Value)
		switch {
		case p.cdn == "":
			drops[dropNoCDN]++
		case math.IsNaN(f) || math.IsInf(f, 0):
			drops[dropNotFinite]++
		case !k.inRange(f):
			drops[dropOutOfRange]++
		default:
			seen[p]++
			pts = append(pts, point{p, s.Timestamp.Time(), f})
		}
	}
	// Two series for one place mean the query does not aggregate by cdn
	// and region; taking either would be a guess, so neither counts.
	pts = slices.DeleteFunc(pts, func(pt point) bool {
		if seen[pt.place] > 1 {
			drops[dropDuplicate]++
			return true
		}
		return false
	})
	slices.SortFunc(pts, func(a, b point) int {
		return cmp.Or(cmp.Compare(a.cdn, b.cdn), cmp.Compare(a.region, b.region))
	})
	return pts, drops, nil
}

// toSignals makes one Signal per point, with the sample count of its place
// when samples has one.
func toSignals(pts []point, k *kind, samples map[place]int) []health.Signal {
	out := make([]health.Signal, len(pts))
	for i, pt := range pts {
		n, ok := samples[pt.place]
		if !ok {
			n = 1
		}
		out[i] = health.Signal{
			CDN:     pt.cdn,
			Region:  pt.region,
			Time:    pt.t,
			Samples: n,
			Source:  health.SourcePrometheus,
		}
		k.set(&out[i], pt.v)
	}
	return out
}

// sampleCounts indexes the points of the samples query by place.
func sampleCounts(pts []point) map[place]int {
	m := make(map[place]int, len(pts))
	for _, pt := range pts {
		var s health.Signal
		samplesKind.set(&s, pt.v)
		m[pt.place] = s.Samples
	}
	return m
}

// datePoints gives each point the time of the timestamps series at its
// place, or else at its CDN's all-regions place; a point with neither is
// dropped and counted. The engine then judges the data's age by it.
func datePoints(pts, stamps []point, at time.Time) ([]point, map[string]int) {
	when := make(map[place]float64, len(stamps))
	for _, st := range stamps {
		when[st.place] = st.v
	}
	drops := map[string]int{}
	out := pts[:0]
	for _, pt := range pts {
		sec, ok := when[pt.place]
		if !ok {
			sec, ok = when[place{pt.cdn, ""}]
		}
		if !ok {
			drops[dropNoTimestamp]++
			continue
		}
		// Prometheus keeps milliseconds; a float64 of seconds cannot hold
		// nanoseconds since 1970 exactly (…05.851 came back …05.851000064).
		t := time.UnixMilli(int64(math.Round(sec * 1e3)))
		if t.Sub(at) > maxAhead {
			drops[dropFutureTimestamp]++
			continue
		}
		if t.After(at) {
			t = at
		}
		pt.t = t
		out = append(out, pt)
	}
	return out, drops
}
