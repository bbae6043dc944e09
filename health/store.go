package health

import (
	"math"
	"time"
)

// sample is the latest value of one signal kind.
type sample struct {
	v       float64
	t       time.Time
	samples int
	source  string
}

// reading is the latest of every kind for one CDN and region.
type reading [NumKinds]sample

type storeKey struct{ cdn, region string }

// store keeps the latest sample of each signal per CDN and region ("" for
// all regions). A sample older than the one kept is ignored, so sources
// that deliver late cannot roll the state back.
type store map[storeKey]*reading

func (s store) add(sig Signal) {
	k := storeKey{sig.CDN, sig.Region}
	r := s[k]
	if r == nil {
		r = &reading{}
		s[k] = r
	}
	// A count of 0 is kept as such: "not given", which the confidence
	// of what it says takes as min_samples (confidence.go).
	n := max(sig.Samples, 0)
	for i, v := range sig.Values {
		if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
			continue
		}
		if sig.Time.Before(r[i].t) {
			continue
		}
		r[i] = sample{v: *v, t: sig.Time, samples: n, source: sig.Source}
	}
}

// view returns what is fresh for a CDN in a region: a region's own value
// of a kind when it has one, else the all-regions value.
//
// own and all are the CDN's readings in the region and in all regions;
// regional is false when the region is all regions.
func view(own, all *reading, regional bool, now time.Time, maxAge time.Duration) Readings {
	var out Readings
	for i := range NumKinds {
		for _, r := range [2]*reading{own, all} {
			if r == nil || r[i].t.IsZero() || now.Sub(r[i].t) > maxAge {
				continue
			}
			if r == own && i.Info().PerCommit && regional {
				// A region's own throughput is its demand, for the
				// capacity step (capacity.go); against the CDN's whole
				// commit it would read as an idle CDN.
				continue
			}
			v := r[i].v
			out.Values[i] = &v
			if r[i].t.After(out.Newest) {
				out.Newest = r[i].t
			}
			break
		}
	}
	return out
}

// Round rounds v to digits decimals, for numbers meant for people (logs,
// reports) rather than for further arithmetic.
func Round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
