package zones

import (
	"github.com/cdnsteer/cdnsteer/health"
)

// GateConfig is [policy.NAME.gate]: a gate per kind of signal that has
// one, under the kind's key in health's kinds table (error_rate = 0.02,
// ttfb_ms = 300 over the good bound), and the confidence they are judged
// with (confidence, min_samples). Like ScoreConfig it decodes itself, so
// that its keys come from the kinds table; what does not fit is kept for
// the compiler to report at its line.
type GateConfig struct {
	Gates      [health.NumKinds]*float64
	Confidence *float64
	MinSamples *int
	problems   []scoreProblem
}

// UnmarshalTOML takes the decoded [policy.NAME.gate] table.
func (g *GateConfig) UnmarshalTOML(data any) error {
	*g = GateConfig{}
	table, ok := data.(map[string]any)
	if !ok {
		g.problems = append(g.problems, scoreProblem{"", "gate must be a table of gates by signal, confidence and min_samples"})
		return nil
	}
	for _, key := range sortedKeys(table) {
		v := table[key]
		switch key {
		case "confidence":
			if f, ok := number(v); ok {
				g.Confidence = &f
			} else {
				g.problems = append(g.problems, scoreProblem{key, "gate.confidence must be a number"})
			}
			continue
		case "min_samples":
			if n, ok := v.(int64); ok && n >= 0 && n <= 1e9 {
				i := int(n)
				g.MinSamples = &i
			} else {
				g.problems = append(g.problems, scoreProblem{key, "gate.min_samples must be a whole number 0..1e9"})
			}
			continue
		}
		k, ok := health.KindOf(key)
		if !ok || k.Info().Gate == nil {
			g.problems = append(g.problems, scoreProblem{key: key})
			continue
		}
		f, ok := number(v)
		if !ok {
			g.problems = append(g.problems, scoreProblem{key, "gate." + key + " must be a number"})
			continue
		}
		g.Gates[k] = &f
	}
	return nil
}

// number is v as a float64, for a TOML integer or float.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// gates sets p's gates and confidence from the policy's [gate] table
// over the defaults, after its score bounds: a default gate that the
// policy's own bounds contradict moves to the bad bound, a gate the
// policy sets is checked against them by Params.Validate.
func (c *compiler) gates(at, name string, p *health.Params, pc *PolicyConfig) {
	gc := &pc.Gate
	for _, pr := range gc.problems {
		path := at + ".gate"
		if pr.key != "" {
			path += "." + pr.key
		}
		if pr.msg == "" {
			c.el.Add(path, "unknown key %q", path)
		} else {
			c.el.Add(path, "policy %q: %s", name, pr.msg)
		}
	}
	for k := range health.NumKinds {
		if gc.Gates[k] != nil {
			p.Gate[k] = *gc.Gates[k]
		} else {
			p.FitDefaultGate(k)
		}
	}
	set(&p.Confidence, gc.Confidence)
	set(&p.MinSamples, gc.MinSamples)
	set(&p.DeadBand, pc.DeadBand)
	set(&p.HoldDown, pc.HoldDown)
	set(&p.HoldDownMax, pc.HoldDownMax)
}
