package sim

import "fmt"

// curve reads the audience curve: points as given, or phases turned
// into points.
func (b *binder) curve(a *audienceFile) {
	switch {
	case len(a.Points) > 0 && len(a.Phase) > 0:
		b.p.Add("audience", "give the audience curve as points or as phases, not both")
		return
	case len(a.Points) == 0 && len(a.Phase) == 0:
		b.p.Add("audience", "the audience curve needs points or [[audience.phase]] tables")
		return
	}
	if a.BitrateMbps != nil && *a.BitrateMbps <= 0 {
		b.p.Add("audience.bitrate_mbps", "bitrate_mbps must be positive")
	}
	if len(a.Points) > 0 {
		if a.StartViewers != nil {
			b.p.Add("audience.start_viewers", "start_viewers applies to phases; the first point sets the start")
		}
		for i, pt := range a.Points {
			if pt.At == nil || pt.Viewers == nil {
				b.p.Add("audience.points", "point %d needs at and viewers", i+1)
				return
			}
			if *pt.Viewers < 0 || *pt.At < 0 {
				b.p.Add("audience.points", "point %d: at and viewers must not be negative", i+1)
			}
			if i > 0 && *pt.At < *a.Points[i-1].At {
				b.p.Add("audience.points", "point %d: times must not go back (%s after %s)", i+1, *pt.At, *a.Points[i-1].At)
			}
			b.sc.Curve.Points = append(b.sc.Curve.Points, Point{*pt.At, *pt.Viewers})
		}
		return
	}
	start := 0.0
	if a.StartViewers != nil {
		start = *a.StartViewers
		if start < 0 {
			b.p.Add("audience.start_viewers", "start_viewers must not be negative")
		}
	}
	specs := make([]phaseSpec, len(a.Phase))
	for i, ph := range a.Phase {
		at := fmt.Sprintf("audience.phase[%d]", i)
		if ph.Duration == nil || *ph.Duration <= 0 {
			b.p.Add(at, "phase %d needs a positive duration", i+1)
			return
		}
		if (ph.Viewers != nil && *ph.Viewers < 0) || (ph.Settle != nil && *ph.Settle < 0) {
			b.p.Add(at, "phase %d: viewers must not be negative", i+1)
		}
		s := phaseSpec{name: ph.Name, shape: ph.Shape, duration: *ph.Duration, viewers: ph.Viewers, settle: ph.Settle, annotate: true}
		if s.name == "" {
			s.name = fmt.Sprintf("phase %d", i+1)
		}
		if ph.Rise != nil {
			s.rise = *ph.Rise
		}
		if ph.Annotate != nil {
			s.annotate = *ph.Annotate
		}
		specs[i] = s
	}
	c, err := buildPhases(start, specs)
	if err != nil {
		b.p.Add("audience.phase", "%v", err)
		return
	}
	b.sc.Curve = c
}
