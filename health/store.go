package health

import (
	"math"
	"time"
)

// Signal kinds, as named in the API, the log and the live view.
const (
	KindTTFB       = "ttfb_ms"
	KindErrorRate  = "error_rate"
	KindCacheHit   = "cache_hit_ratio"
	KindThroughput = "throughput_gbps"
	KindDownload   = "download_mbps"
)

// Kinds lists the signal kinds in the order Readings.Field numbers them.
var Kinds = [NumKinds]string{KindTTFB, KindErrorRate, KindCacheHit, KindThroughput, KindDownload}

// NumKinds is how many signal kinds there are.
const NumKinds = 5

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
	n := max(sig.Samples, 1)
	for i, v := range []*float64{sig.TTFBMs, sig.ErrorRate, sig.CacheHitRatio, sig.ThroughputGbps, sig.DownloadMbps} {
		if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
			continue
		}
		if sig.Time.Before(r[i].t) {
			continue
		}
		r[i] = sample{v: *v, t: sig.Time, samples: n, source: sig.Source}
	}
}

// Readings are the fresh values the engine scored a CDN on; nil means no
// fresh value.
type Readings struct {
	TTFBMs         *float64 `json:"ttfb_ms,omitempty"`
	ErrorRate      *float64 `json:"error_rate,omitempty"`
	CacheHitRatio  *float64 `json:"cache_hit_ratio,omitempty"`
	ThroughputGbps *float64 `json:"throughput_gbps,omitempty"`
	DownloadMbps   *float64 `json:"download_mbps,omitempty"`
	// Newest is the time of the newest value used.
	Newest time.Time `json:"newest,omitzero"`
}

func (r *Readings) any() bool {
	return r.TTFBMs != nil || r.ErrorRate != nil || r.CacheHitRatio != nil || r.ThroughputGbps != nil || r.DownloadMbps != nil
}

// Field is the value of kind Kinds[i].
func (r *Readings) Field(i int) **float64 {
	return [...]**float64{&r.TTFBMs, &r.ErrorRate, &r.CacheHitRatio, &r.ThroughputGbps, &r.DownloadMbps}[i]
}

// Map returns the readings by kind name, for logs.
func (r *Readings) Map() map[string]float64 {
	m := map[string]float64{}
	for i, k := range Kinds {
		if v := *r.Field(i); v != nil {
			m[k] = Round(*v, 4)
		}
	}
	return m
}

// view returns what is fresh for a CDN in a region: a region's own value
// of a kind when it has one, else the all-regions value.
func (s store) view(cdn, region string, now time.Time, maxAge time.Duration) Readings {
	var out Readings
	own, all := s[storeKey{cdn, region}], s[storeKey{cdn, ""}]
	for i := range Kinds {
		for _, r := range []*reading{own, all} {
			if r == nil || r[i].t.IsZero() || now.Sub(r[i].t) > maxAge {
				continue
			}
			v := r[i].v
			*out.Field(i) = &v
			if r[i].t.After(out.Newest) {
				out.Newest = r[i].t
			}
			break
		}
	}
	return out
}

// totalGbps is what a CDN delivers in all: its all-regions throughput when
// fresh, else the sum of fresh per-region values.
func (s store) totalGbps(cdn string, now time.Time, maxAge time.Duration) (gbps float64, measured time.Time, ok bool) {
	fresh := func(r *reading) bool {
		return r != nil && !r[3].t.IsZero() && now.Sub(r[3].t) <= maxAge
	}
	if r := s[storeKey{cdn, ""}]; fresh(r) {
		return r[3].v, r[3].t, true
	}
	for k, r := range s {
		if k.cdn == cdn && k.region != "" && fresh(r) {
			gbps += r[3].v
			if !ok || r[3].t.Before(measured) {
				measured = r[3].t
			}
			ok = true
		}
	}
	return gbps, measured, ok
}

// Round rounds v to digits decimals, for numbers meant for people (logs,
// reports) rather than for further arithmetic.
func Round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}
