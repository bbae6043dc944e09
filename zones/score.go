package zones

import (
	"github.com/cdnsteer/cdnsteer/health"
)

// ScoreConfig is [policy.NAME.score]: how each kind of signal counts,
// under the kind's score key in health's kinds table. Its keys come from
// that table rather than from struct fields, so it decodes itself; what
// does not fit is kept for the compiler to report at its line, beside the
// policy's other problems.
type ScoreConfig struct {
	// Bounds holds the policy's settings by kind; nil where it sets none.
	Bounds [health.NumKinds]*BoundsConfig
	// problems are what did not fit, by key path under score.
	problems []scoreProblem
}

// BoundsConfig is one signal's weight in the score and the values that
// score full marks (good) and nothing (bad).
type BoundsConfig struct {
	Weight *float64
	Good   *float64
	Bad    *float64
}

type scoreProblem struct {
	key, msg string
}

// UnmarshalTOML takes the decoded [policy.NAME.score] table.
func (s *ScoreConfig) UnmarshalTOML(data any) error {
	*s = ScoreConfig{}
	table, ok := data.(map[string]any)
	if !ok {
		s.problems = append(s.problems, scoreProblem{"", "score must be a table of {weight, good, bad} by signal"})
		return nil
	}
	for _, key := range sortedKeys(table) {
		k, ok := scoreKind(key)
		if !ok {
			s.unknown(key, table[key])
			continue
		}
		fields, ok := table[key].(map[string]any)
		if !ok {
			s.problems = append(s.problems, scoreProblem{key, "score." + key + " must be a table {weight, good, bad}"})
			continue
		}
		b := &BoundsConfig{}
		for _, name := range sortedKeys(fields) {
			var dst **float64
			switch name {
			case "weight":
				dst = &b.Weight
			case "good":
				dst = &b.Good
			case "bad":
				dst = &b.Bad
			default:
				s.unknown(key+"."+name, fields[name])
				continue
			}
			switch v := fields[name].(type) {
			case float64:
				*dst = &v
			case int64:
				f := float64(v)
				*dst = &f
			default:
				s.problems = append(s.problems, scoreProblem{key + "." + name, "score." + key + "." + name + " must be a number"})
			}
		}
		s.Bounds[k] = b
	}
	return nil
}

// unknown records key, and every key under it, as unknown, as the
// decoder reports keys that no field takes.
func (s *ScoreConfig) unknown(key string, v any) {
	s.problems = append(s.problems, scoreProblem{key: key})
	if sub, ok := v.(map[string]any); ok {
		for _, k := range sortedKeys(sub) {
			s.unknown(key+"."+k, sub[k])
		}
	}
}

// scoreKind is the kind whose score key is key.
func scoreKind(key string) (health.Kind, bool) {
	for k := range health.NumKinds {
		if k.Info().ScoreKey == key {
			return k, true
		}
	}
	return 0, false
}

// scoreBounds sets p's score bounds from the policy's [score] table over
// the defaults, and reports what in that table did not fit. at is the
// policy's key path.
func (c *compiler) scoreBounds(at, name string, p *health.Params, sc *ScoreConfig) {
	for _, pr := range sc.problems {
		path := at + ".score"
		if pr.key != "" {
			path += "." + pr.key
		}
		if pr.msg == "" {
			c.el.Add(path, "unknown key %q", path)
		} else {
			c.el.Add(path, "policy %q: %s", name, pr.msg)
		}
	}
	for k, b := range sc.Bounds {
		if b == nil {
			continue
		}
		set(&p.Score[k].Weight, b.Weight)
		set(&p.Score[k].Good, b.Good)
		set(&p.Score[k].Bad, b.Bad)
	}
}
