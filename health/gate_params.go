package health

import (
	"fmt"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Defaults of the gate and confidence keys. 2 % rather than 3 %: a gate
// is judged on the lower confidence bound, which for a CDN failing 3 %
// of requests is under 3 % at any finite count; at 2 % a few hundred
// requests suffice to show 3 %.
const (
	DefaultConfidence  = 0.95
	DefaultMinSamples  = 30
	DefaultDeadBand    = 10
	DefaultHoldDown    = 30 * time.Second
	DefaultHoldDownMax = 10 * time.Minute
)

func (p *Params) setGateDefaults() {
	for k := range NumKinds {
		if g := k.Info().Gate; g != nil {
			p.Gate[k] = g.Default
		}
	}
	p.Confidence, p.MinSamples, p.DeadBand = DefaultConfidence, DefaultMinSamples, DefaultDeadBand
	p.HoldDown, p.HoldDownMax = DefaultHoldDown, DefaultHoldDownMax
}

// FitDefaultGate moves kind k's gate, when the policy left it to its
// default, to the bad bound if the default contradicts the policy's own
// bounds (a TTFB gate of good + 300 ms past a bad bound 200 ms above
// good, say): a policy valid before gates existed stays valid, and its
// bad bound is then where a value past it degrades.
func (p *Params) FitDefaultGate(k Kind) {
	level, ok := p.gateLevel(k)
	if !ok || p.gateFits(k, level) {
		return
	}
	b := p.Score[k]
	if k.Info().Gate.OverGood {
		p.Gate[k] = b.Bad - b.Good
	} else {
		p.Gate[k] = b.Bad
	}
}

// gateFits reports whether level lies past the good bound and not past
// the bad one: a gate inside full marks would degrade a CDN scoring 100,
// one past bad would pass a CDN scoring 0 on the kind.
func (p *Params) gateFits(k Kind, level float64) bool {
	b := p.Score[k]
	if b.Good < b.Bad {
		return level > b.Good && level <= b.Bad
	}
	return level < b.Good && level >= b.Bad
}

// GateKey is kind k's key under [policy.NAME.gate].
func GateKey(k Kind) string { return "gate." + k.Key() }

func (p *Params) gateNumbers() []paramNumber {
	out := []paramNumber{{"gate.confidence", p.Confidence}, {"dead_band", p.DeadBand}}
	for k := range NumKinds {
		out = append(out, paramNumber{GateKey(k), p.Gate[k]})
	}
	return out
}

func (p *Params) validateGates() []error {
	var errs []error
	bad := func(key string, related []string, format string, args ...any) {
		errs = append(errs, &keyerr.Error{Key: key, Related: related, Msg: fmt.Sprintf(format, args...)})
	}
	for k := range NumKinds {
		g, info := p.Gate[k], k.Info()
		switch {
		case g == 0:
		case info.Gate == nil:
			bad(GateKey(k), nil, "%s has no gate (load is the capacity factor's, not health)", info.Key)
		case g < 0:
			bad(GateKey(k), nil, "%g must be above 0", g)
		case p.Score[k].Good == p.Score[k].Bad:
			// Reported as the bounds' own problem.
		default:
			level, _ := p.gateLevel(k)
			if p.gateFits(k, level) {
				continue
			}
			b, score := p.Score[k], "score."+info.ScoreKey
			what := fmt.Sprintf("%g", level)
			if info.Gate.OverGood {
				what = fmt.Sprintf("good + %g = %g", g, level)
			}
			bad(GateKey(k), []string{score}, "%s contradicts %s (good %g, bad %g): a gate must lie past good and not past bad", what, score, b.Good, b.Bad)
		}
	}
	if !(p.Confidence >= 0.5 && p.Confidence < 1) {
		bad("gate.confidence", nil, "%g is outside [0.5, 1)", p.Confidence)
	}
	if p.MinSamples < 1 || p.MinSamples > maxCount {
		bad("gate.min_samples", nil, "%d is outside 1..%g", p.MinSamples, float64(maxCount))
	}
	if !(p.DeadBand >= 0 && p.DeadBand < 50) {
		bad("dead_band", nil, "%g is outside 0..50 (score points)", p.DeadBand)
	}
	switch {
	case p.HoldDown < p.EvalInterval:
		bad("hold_down", []string{"evaluation_interval"}, "%s is shorter than evaluation_interval (%s)", p.HoldDown, p.EvalInterval)
	case p.HoldDownMax < p.HoldDown:
		bad("hold_down_max", []string{"hold_down"}, "%s is shorter than hold_down (%s)", p.HoldDownMax, p.HoldDown)
	}
	return errs
}
