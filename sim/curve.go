package sim

import (
	"fmt"
	"strings"
	"time"
)

// Curve is the concurrent audience over time, piecewise linear between
// points. Two points at the same time make a step.
type Curve struct {
	Points []Point
	// Phases name the stretches of the curve built from named phases,
	// for the timeline; empty when the curve was given as points.
	Phases []Phase
}

// Point is the audience at one offset from the start.
type Point struct {
	At      time.Duration
	Viewers float64
}

// Phase is a named stretch of the curve.
type Phase struct {
	Name  string
	Shape string
	Start time.Duration
	End   time.Duration
	// Annotate puts the phase's start on the timeline as an annotation.
	Annotate bool
}

// At returns the audience at offset d: interpolated between points, held
// flat before the first and after the last.
func (c *Curve) At(d time.Duration) float64 {
	p := c.Points
	if len(p) == 0 {
		return 0
	}
	if d <= p[0].At {
		return p[0].Viewers
	}
	for i := 1; i < len(p); i++ {
		if d < p[i].At {
			a, b := p[i-1], p[i]
			k := float64(d-a.At) / float64(b.At-a.At)
			return a.Viewers + k*(b.Viewers-a.Viewers)
		}
	}
	return p[len(p)-1].Viewers
}

// Peak is the largest audience on the curve.
func (c *Curve) Peak() float64 {
	m := 0.0
	for _, p := range c.Points {
		m = max(m, p.Viewers)
	}
	return m
}

// End is the offset of the last point.
func (c *Curve) End() time.Duration {
	if len(c.Points) == 0 {
		return 0
	}
	return c.Points[len(c.Points)-1].At
}

// Phase shapes.
const (
	ShapeRamp  = "ramp"  // linear to viewers over the phase
	ShapeSurge = "surge" // the same as ramp; reads better for extra time
	ShapeHold  = "hold"  // flat at viewers (default: the level reached)
	ShapeSpike = "spike" // up to viewers within rise, then to settle
	ShapeDip   = "dip"   // down to viewers within rise, back up at the end
)

// defaultShape maps the usual phase names of a match to their shape, so
// that a scenario can say only `name = "kick-off"`.
func defaultShape(name string) string {
	n := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(name))
	switch n {
	case "preshow", "prematch", "warmup":
		return ShapeRamp
	case "kickoff", "start":
		return ShapeSpike
	case "halftime", "break", "interval":
		return ShapeDip
	case "extratime", "overtime", "penalties":
		return ShapeSurge
	case "firsthalf", "secondhalf", "play":
		return ShapeHold
	}
	return ShapeRamp
}

// DefaultRise is how long a spike takes to peak and a dip to bottom out
// when the phase does not say.
const DefaultRise = 2 * time.Minute

// phaseSpec is a phase as read, with defaults not yet applied.
type phaseSpec struct {
	name, shape string
	duration    time.Duration
	viewers     *float64
	rise        time.Duration
	settle      *float64
	annotate    bool
}

// buildPhases turns named phases into points, starting at level start.
func buildPhases(start float64, specs []phaseSpec) (Curve, error) {
	c := Curve{Points: []Point{{0, start}}}
	at, level := time.Duration(0), start
	for i, s := range specs {
		shape := s.shape
		if shape == "" {
			shape = defaultShape(s.name)
		}
		end := at + s.duration
		v := level
		if s.viewers != nil {
			v = *s.viewers
		} else if shape != ShapeHold {
			return Curve{}, fmt.Errorf("phase %d (%s): %s needs viewers", i+1, s.name, shape)
		}
		rise := s.rise
		if rise == 0 {
			rise = min(DefaultRise, s.duration/2)
		}
		switch shape {
		case ShapeRamp, ShapeSurge:
			c.Points = append(c.Points, Point{end, v})
			level = v
		case ShapeHold:
			c.Points = append(c.Points, Point{at, v}, Point{end, v})
			level = v
		case ShapeSpike:
			if rise > s.duration {
				return Curve{}, fmt.Errorf("phase %d (%s): rise %s is longer than the phase", i+1, s.name, rise)
			}
			settle := v
			if s.settle != nil {
				settle = *s.settle
			}
			c.Points = append(c.Points, Point{at + rise, v}, Point{end, settle})
			level = settle
		case ShapeDip:
			if 2*rise > s.duration {
				return Curve{}, fmt.Errorf("phase %d (%s): a dip needs twice its rise (%s) within the phase", i+1, s.name, rise)
			}
			back := level
			if s.settle != nil {
				back = *s.settle
			}
			c.Points = append(c.Points, Point{at + rise, v}, Point{end - rise, v}, Point{end, back})
			level = back
		default:
			return Curve{}, fmt.Errorf("phase %d (%s): unknown shape %q (ramp, surge, hold, spike, dip)", i+1, s.name, shape)
		}
		c.Phases = append(c.Phases, Phase{Name: s.name, Shape: shape, Start: at, End: end, Annotate: s.annotate})
		at = end
	}
	return c, nil
}
