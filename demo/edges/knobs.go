package edges

import (
	"fmt"
	"math"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Bounds of the knobs. They are wide enough to show any failure the demo
// needs (a latency past every probe timeout, a trickle of bandwidth) and
// narrow enough that a typo cannot park a probe goroutine for minutes.
const (
	MaxLatencyMs     = 10000
	MinBandwidthMbps = 0.1
	MaxBandwidthMbps = 100000
)

// Knobs are how a simulated edge behaves. Every request draws its outcome
// from them independently, as a real edge's requests would.
type Knobs struct {
	// LatencyMs is the think time before the response headers, in ms.
	LatencyMs float64 `json:"latency_ms"`
	// ErrorRate is the share of requests answered 503, 0..1.
	ErrorRate float64 `json:"error_rate"`
	// CacheHitRatio is the share of answers marked "X-Cache: HIT", 0..1;
	// the others say MISS.
	CacheHitRatio float64 `json:"cache_hit_ratio"`
	// BandwidthMbps is the rate at which each response body is sent.
	BandwidthMbps float64 `json:"bandwidth_mbps"`
}

// Healthy is an edge with nothing wrong: fast, reliable, well cached and
// with plenty of bandwidth, so that it scores near 100.
var Healthy = Knobs{LatencyMs: 20, ErrorRate: 0, CacheHitRatio: 0.98, BandwidthMbps: 200}

// Validate reports the first knob out of range as a *keyerr.Error.
func (k Knobs) Validate() error {
	check := func(field string, v, lo, hi float64) error {
		if math.IsNaN(v) || v < lo || v > hi {
			return &keyerr.Error{Key: field, Msg: fmt.Sprintf("%v is outside %g..%g", v, lo, hi)}
		}
		return nil
	}
	for _, err := range []error{
		check("latency_ms", k.LatencyMs, 0, MaxLatencyMs),
		check("error_rate", k.ErrorRate, 0, 1),
		check("cache_hit_ratio", k.CacheHitRatio, 0, 1),
		check("bandwidth_mbps", k.BandwidthMbps, MinBandwidthMbps, MaxBandwidthMbps),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// Patch is a partial change of Knobs: nil fields keep their value.
type Patch struct {
	LatencyMs     *float64 `json:"latency_ms"`
	ErrorRate     *float64 `json:"error_rate"`
	CacheHitRatio *float64 `json:"cache_hit_ratio"`
	BandwidthMbps *float64 `json:"bandwidth_mbps"`
}

// Empty reports whether the patch changes nothing.
func (p Patch) Empty() bool {
	return p.LatencyMs == nil && p.ErrorRate == nil && p.CacheHitRatio == nil && p.BandwidthMbps == nil
}

// Apply returns k with the patch's fields set.
func (p Patch) Apply(k Knobs) Knobs {
	for _, f := range []struct {
		v   *float64
		dst *float64
	}{{p.LatencyMs, &k.LatencyMs}, {p.ErrorRate, &k.ErrorRate}, {p.CacheHitRatio, &k.CacheHitRatio}, {p.BandwidthMbps, &k.BandwidthMbps}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return k
}
