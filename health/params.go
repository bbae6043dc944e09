package health

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Bounds normalise one signal: a value at Good scores 1, at Bad 0, linear
// in between and clamped outside. Good may be above or below Bad, so one
// rule serves "lower is better" and "higher is better" signals.
type Bounds struct {
	Weight float64 `json:"weight"`
	Good   float64 `json:"good"`
	Bad    float64 `json:"bad"`
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
	// The capacity controller (capacity.go) keeps the split while every
	// CDN is within CapacityDeadBand of CapacitySoft, moves no CDN's
	// share by more than CapacityMaxMove of itself per TTL for capacity,
	// and counts on FollowShare of a CDN's viewers to follow a new answer.
	CapacityDeadBand float64
	CapacityMaxMove  float64
	FollowShare      float64
	// StaticDrift is how long, once telemetry has gone stale, the last
	// measured split takes to drift back to the baseline.
	StaticDrift time.Duration

	// Score holds how each kind of signal counts, by kind (kinds.go
	// says what each measures and how it is scored).
	Score [NumKinds]Bounds

	// Gate holds each kind's gate (gate.go), by kind: a value, or for a
	// kind whose gate is a margin over its good bound, that margin; 0 is
	// no gate. Confidence is how sure a gate must be that a value is past
	// it, MinSamples how many requests of its own a region needs to be
	// judged alone (and how much its parent's evidence weighs,
	// confidence.go).
	Gate       [NumKinds]float64
	Confidence float64
	MinSamples int
	// DeadBand is how far (in score points) a CDN's score must move
	// before its weight follows; within DeadBand of full marks it counts
	// as full (damping.go).
	DeadBand float64
	// HoldDown is how long a CDN degraded again within an hour must look
	// healthy before it is re-admitted, doubled with each further relapse
	// up to HoldDownMax (damping.go).
	HoldDown    time.Duration
	HoldDownMax time.Duration
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
	p.setGateDefaults()
	p.setCapacityDefaults()
	return p
}

// Validate reports every setting that cannot work, always in the same
// order, as *keyerr.Error naming its policy key (and the keys it is
// compared with), joined. Numbers must be finite first: TOML spells inf
// and nan, one of them in a bound or a capacity limit would turn scores
// and weights into NaN, and a NaN would fail every other check besides.
func (p Params) Validate() error {
	var errs []error
	bad := func(key string, related []string, format string, args ...any) {
		errs = append(errs, &keyerr.Error{Key: key, Related: related, Msg: fmt.Sprintf(format, args...)})
	}
	for _, f := range p.numbers() {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			bad(f.key, nil, "must be a finite number, not %v", f.v)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if p.EvalInterval < 10*time.Millisecond {
		bad("evaluation_interval", nil, "%s is below 10ms", p.EvalInterval)
	}
	if p.SignalMaxAge < p.EvalInterval {
		bad("signal_max_age", []string{"evaluation_interval"}, "%s is shorter than evaluation_interval (%s)", p.SignalMaxAge, p.EvalInterval)
	}
	for _, f := range []paramNumber{{"smoothing_down", p.SmoothingDown}, {"smoothing_up", p.SmoothingUp}, {"recovery_step", p.RecoveryStep}} {
		if !(f.v > 0 && f.v <= 1) {
			bad(f.key, nil, "%g is outside (0, 1]", f.v)
		}
	}
	down, up := p.DownThreshold, p.UpThreshold
	switch {
	case down < 0 || down > 100:
		bad("down_threshold", nil, "%g is outside 0..100", down)
	case up < 0 || up > 100:
		bad("up_threshold", nil, "%g is outside 0..100", up)
	case down >= up:
		bad("down_threshold", []string{"up_threshold"}, "%g must be below up_threshold (%g)", down, up)
	}
	if p.DownAfter < 1 {
		bad("down_after", nil, "%d must be at least 1", p.DownAfter)
	}
	if p.UpAfter < 1 {
		bad("up_after", nil, "%d must be at least 1", p.UpAfter)
	}
	if !(p.CapacitySoft > 0) {
		bad("capacity_soft", nil, "%g must be above 0", p.CapacitySoft)
	} else if p.CapacitySoft >= p.CapacityHard {
		bad("capacity_soft", []string{"capacity_hard"}, "%g must be below capacity_hard (%g)", p.CapacitySoft, p.CapacityHard)
	}
	if p.StaticDrift <= 0 {
		bad("static_drift", nil, "%s must be positive", p.StaticDrift)
	}
	errs = append(errs, p.validateCapacity()...)
	weights := 0.0
	for k, b := range p.Score {
		name := "score." + Kind(k).Info().ScoreKey
		if b.Weight < 0 {
			bad(name+".weight", nil, "must be a number >= 0")
		}
		if b.Good == b.Bad {
			bad(name, nil, "good and bad must differ")
		}
		if Kind(k).Info().StandsInFor == Kind(k) {
			weights += b.Weight
		}
	}
	if weights == 0 {
		bad("score", nil, "every weight is zero: nothing would be measured")
	}
	errs = append(errs, p.validateGates()...)
	return errors.Join(errs...)
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
	out = append(out, p.capacityNumbers()...)
	for k, b := range p.Score {
		key := "score." + Kind(k).Info().ScoreKey + "."
		out = append(out, paramNumber{key + "weight", b.Weight}, paramNumber{key + "good", b.Good}, paramNumber{key + "bad", b.Bad})
	}
	out = append(out, p.gateNumbers()...)
	return out
}
