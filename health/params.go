package health

import (
	"errors"
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

	// Score holds how each kind of signal counts, by kind (kinds.go
	// says what each measures and how it is scored).
	Score [NumKinds]Bounds
}

// DefaultParams suit a live event probed every second: a CDN that stops
// answering loses its new traffic within about three evaluations, one bad
// probe moves nothing, and a recovered CDN regains its share in about
// 20 s (TestRecoveryIsGradual).
func DefaultParams() Params {
	p := Params{
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
	}
	for k := range NumKinds {
		p.Score[k] = k.Info().Default
	}
	return p
}

// Validate reports the first setting that cannot work, or every number
// that is not finite: TOML spells inf and nan, and one of them in a bound
// or a capacity limit would turn scores and weights into NaN.
func (p Params) Validate() error {
	bad := func(msg string, keys ...string) error { return &ParamError{Keys: keys, Msg: msg} }
	var infinite []error
	for _, f := range p.numbers() {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			infinite = append(infinite, bad(fmt.Sprintf("%s must be a finite number, not %v", f.key, f.v), f.key))
		}
	}
	if len(infinite) > 0 {
		return errors.Join(infinite...)
	}
	switch {
	case p.EvalInterval < 10*time.Millisecond:
		return bad(fmt.Sprintf("evaluation_interval %s is below 10ms", p.EvalInterval), "evaluation_interval")
	case p.SignalMaxAge < p.EvalInterval:
		return bad(fmt.Sprintf("signal_max_age %s is shorter than evaluation_interval %s", p.SignalMaxAge, p.EvalInterval), "signal_max_age", "evaluation_interval")
	case !(p.SmoothingDown > 0 && p.SmoothingDown <= 1) || !(p.SmoothingUp > 0 && p.SmoothingUp <= 1):
		return bad("smoothing_down and smoothing_up must be in (0, 1]", "smoothing_down", "smoothing_up")
	case !(p.DownThreshold >= 0 && p.DownThreshold < p.UpThreshold && p.UpThreshold <= 100):
		return bad(fmt.Sprintf("need 0 <= down_threshold (%g) < up_threshold (%g) <= 100", p.DownThreshold, p.UpThreshold), "down_threshold", "up_threshold")
	case p.DownAfter < 1 || p.UpAfter < 1:
		return bad("down_after and up_after must be at least 1", "down_after", "up_after")
	case !(p.RecoveryStep > 0 && p.RecoveryStep <= 1):
		return bad(fmt.Sprintf("recovery_step %g must be in (0, 1]", p.RecoveryStep), "recovery_step")
	case !(p.CapacitySoft > 0 && p.CapacitySoft < p.CapacityHard):
		return bad(fmt.Sprintf("need 0 < capacity_soft (%g) < capacity_hard (%g)", p.CapacitySoft, p.CapacityHard), "capacity_soft", "capacity_hard")
	case p.StaticDrift <= 0:
		return bad("static_drift must be positive", "static_drift")
	}
	weights := 0.0
	for k, b := range p.Score {
		name := Kind(k).Info().ScoreKey
		if b.Weight < 0 {
			return bad(fmt.Sprintf("score.%s.weight must be a number >= 0", name), "score."+name)
		}
		if b.Good == b.Bad {
			return bad(fmt.Sprintf("score.%s: good and bad must differ", name), "score."+name)
		}
		if Kind(k).Info().StandsInFor == Kind(k) {
			weights += b.Weight
		}
	}
	if weights == 0 {
		return bad("every score weight is zero: nothing would be measured", "score")
	}
	return nil
}

// paramNumber is one real-valued setting and its policy key.
type paramNumber struct {
	key string
	v   float64
}

// numbers lists every real-valued setting.
func (p *Params) numbers() []paramNumber {
	out := []paramNumber{
		{"smoothing_down", p.SmoothingDown}, {"smoothing_up", p.SmoothingUp},
		{"down_threshold", p.DownThreshold}, {"up_threshold", p.UpThreshold},
		{"recovery_step", p.RecoveryStep},
		{"capacity_soft", p.CapacitySoft}, {"capacity_hard", p.CapacityHard},
	}
	for k, b := range p.Score {
		key := "score." + Kind(k).Info().ScoreKey + "."
		out = append(out, paramNumber{key + "weight", b.Weight}, paramNumber{key + "good", b.Good}, paramNumber{key + "bad", b.Bad})
	}
	return out
}

// ParamError is a problem of Params and the policy keys it concerns, most
// to blame first, so that a policy compiler can point at a line the file
// has.
type ParamError struct {
	Keys []string
	Msg  string
}

func (e *ParamError) Error() string { return e.Msg }
