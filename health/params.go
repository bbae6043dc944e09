package health

import (
	"fmt"
	"math"
	"time"
)

// Bounds normalise one signal: a value at Good scores 1, at Bad 0, linear
// in between and clamped outside. Good may be above or below Bad, so one
// rule serves "lower is better" and "higher is better" signals.
type Bounds struct {
	Weight float64
	Good   float64
	Bad    float64
}

// Normalise maps v to 0..1 between b.Bad and b.Good.
func (b Bounds) Normalise(v float64) float64 {
	n := (v - b.Bad) / (b.Good - b.Bad)
	return math.Max(0, math.Min(1, n))
}

// Params are a policy's scoring and steering settings. The policy file
// sets them under [policy.NAME]; README.md documents each with its default.
type Params struct {
	// EvalInterval is how often scores and weights are recomputed.
	EvalInterval time.Duration
	// SignalMaxAge is how old a signal may be and still count.
	SignalMaxAge time.Duration
	// SmoothingDown and SmoothingUp are the EWMA factors applied when the
	// new score is below or above the smoothed one: a high SmoothingDown
	// reacts fast to trouble, a low SmoothingUp trusts recovery slowly.
	SmoothingDown float64
	SmoothingUp   float64
	// A CDN is degraded after DownAfter evaluations in a row below
	// DownThreshold, and starts recovering after UpAfter evaluations in a
	// row at or above UpThreshold.
	DownThreshold float64
	UpThreshold   float64
	DownAfter     int
	UpAfter       int
	// RecoveryStep is the share of its full weight a recovering CDN
	// regains per evaluation.
	RecoveryStep float64
	// Between CapacitySoft and CapacityHard (utilisation of the commit) a
	// CDN's weight shrinks linearly to zero: it gets no new traffic at
	// CapacityHard.
	CapacitySoft float64
	CapacityHard float64
	// StaticDrift is how long, once telemetry has gone stale, the last
	// measured split takes to drift back to the baseline.
	StaticDrift time.Duration

	TTFB       Bounds // milliseconds
	ErrorRate  Bounds // 0..1
	CacheHit   Bounds // 0..1
	Throughput Bounds // utilisation of the commit, 0..1+
	Download   Bounds // probe download rate, Mbit/s; used when utilisation is unknown
}

// DefaultParams suit a live event probed every second: a CDN that stops
// answering loses its new traffic within about three evaluations, one bad
// probe moves nothing, and a recovered CDN regains its share in about
// 20 s (TestRecoveryIsGradual).
func DefaultParams() Params {
	return Params{
		EvalInterval:  time.Second,
		SignalMaxAge:  15 * time.Second,
		SmoothingDown: 0.6,
		SmoothingUp:   0.2,
		DownThreshold: 50,
		UpThreshold:   70,
		DownAfter:     2,
		UpAfter:       5,
		RecoveryStep:  0.1,
		CapacitySoft:  0.85,
		CapacityHard:  1.0,
		StaticDrift:   10 * time.Minute,
		TTFB:          Bounds{Weight: 0.3, Good: 200, Bad: 1000},
		ErrorRate:     Bounds{Weight: 0.4, Good: 0.01, Bad: 0.1},
		CacheHit:      Bounds{Weight: 0.1, Good: 0.95, Bad: 0.5},
		Throughput:    Bounds{Weight: 0.2, Good: 0.7, Bad: 1.0},
		Download:      Bounds{Weight: 0.2, Good: 20, Bad: 2},
	}
}

// Validate reports the first setting that cannot work.
func (p Params) Validate() error {
	switch {
	case p.EvalInterval < 10*time.Millisecond:
		return fmt.Errorf("evaluation_interval %s is below 10ms", p.EvalInterval)
	case p.SignalMaxAge < p.EvalInterval:
		return fmt.Errorf("signal_max_age %s is shorter than evaluation_interval %s", p.SignalMaxAge, p.EvalInterval)
	case !(p.SmoothingDown > 0 && p.SmoothingDown <= 1) || !(p.SmoothingUp > 0 && p.SmoothingUp <= 1):
		return fmt.Errorf("smoothing_down and smoothing_up must be in (0, 1]")
	case !(p.DownThreshold >= 0 && p.DownThreshold < p.UpThreshold && p.UpThreshold <= 100):
		return fmt.Errorf("need 0 <= down_threshold (%g) < up_threshold (%g) <= 100", p.DownThreshold, p.UpThreshold)
	case p.DownAfter < 1 || p.UpAfter < 1:
		return fmt.Errorf("down_after and up_after must be at least 1")
	case !(p.RecoveryStep > 0 && p.RecoveryStep <= 1):
		return fmt.Errorf("recovery_step %g must be in (0, 1]", p.RecoveryStep)
	case !(p.CapacitySoft > 0 && p.CapacitySoft < p.CapacityHard):
		return fmt.Errorf("need 0 < capacity_soft (%g) < capacity_hard (%g)", p.CapacitySoft, p.CapacityHard)
	case p.StaticDrift <= 0:
		return fmt.Errorf("static_drift must be positive")
	}
	for name, b := range map[string]Bounds{"ttfb": p.TTFB, "error_rate": p.ErrorRate, "cache_hit": p.CacheHit, "throughput": p.Throughput, "download": p.Download} {
		if b.Weight < 0 || math.IsNaN(b.Weight) || math.IsInf(b.Weight, 0) {
			return fmt.Errorf("score.%s.weight must be a number >= 0", name)
		}
		if b.Good == b.Bad || math.IsNaN(b.Good) || math.IsNaN(b.Bad) {
			return fmt.Errorf("score.%s: good and bad must differ", name)
		}
	}
	if p.TTFB.Weight+p.ErrorRate.Weight+p.CacheHit.Weight+p.Throughput.Weight == 0 {
		return fmt.Errorf("every score weight is zero: nothing would be measured")
	}
	return nil
}
