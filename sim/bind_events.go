package sim

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// faults reads the scripted degradations.
func (b *binder) faults(fs []faultFile) {
	cfg := b.sc.Policy.Config
	for i, ff := range fs {
		at := fmt.Sprintf("fault[%d]", i)
		f := Fault{Name: ff.Name, CDN: ff.CDN, Region: ff.Region, CacheHit: 1, region: -1}
		f.cdn = cfg.CDNIndex(ff.CDN)
		if f.cdn < 0 {
			b.p.Add(at+".cdn", "fault %d: unknown cdn %q", i+1, ff.CDN)
		}
		if ff.Region != "" {
			if f.region = cfg.RegionIndex(ff.Region); f.region < 0 {
				b.p.Add(at+".region", "fault %d: unknown region %q", i+1, ff.Region)
			}
		}
		if ff.Start == nil {
			b.p.Add(at, "fault %d needs a start", i+1)
			continue
		}
		f.Start = *ff.Start
		switch {
		case ff.End != nil && ff.Duration != nil:
			b.p.Add(at+".end", "fault %d: give end or duration, not both", i+1)
		case ff.End != nil:
			f.End = *ff.End
		case ff.Duration != nil:
			f.End = f.Start + *ff.Duration
		default:
			b.p.Add(at, "fault %d needs an end or a duration", i+1)
		}
		if f.End <= f.Start || f.Start < 0 {
			b.p.Add(at, "fault %d must end after it starts", i+1)
		}
		b.setF(&f.TTFBAddMs, ff.TTFBAddMs, at+".ttfb_add_ms", 0, 600000)
		b.setF(&f.ErrorRate, ff.ErrorRate, at+".error_rate", 0, 1)
		b.setF(&f.CacheHit, ff.CacheHit, at+".cache_hit", 0, 1)
		b.setF(&f.RebufferRatio, ff.RebufferRatio, at+".rebuffer_ratio", 0, 1)
		b.setF(&f.StartupMs, ff.StartupMs, at+".startup_ms", 0, health.StartupMs.Info().Max)
		if ff.TTFBAddMs == nil && ff.ErrorRate == nil && ff.CacheHit == nil && ff.RebufferRatio == nil && ff.StartupMs == nil {
			b.p.Add(at, "fault %d changes nothing: set ttfb_add_ms, error_rate, cache_hit, rebuffer_ratio or startup_ms", i+1)
		}
		if f.Name == "" {
			f.Name = f.describe()
		}
		b.sc.Faults = append(b.sc.Faults, f)
	}
}

// describe names a fault by what it does, for faults the file leaves
// unnamed.
func (f Fault) describe() string {
	where := "all regions"
	if f.Region != "" {
		where = f.Region
	}
	var parts []string
	if f.TTFBAddMs > 0 {
		parts = append(parts, fmt.Sprintf("TTFB +%g ms", f.TTFBAddMs))
	}
	if f.ErrorRate > 0 {
		parts = append(parts, fmt.Sprintf("errors %g %%", 100*f.ErrorRate))
	}
	if f.CacheHit < 1 {
		parts = append(parts, fmt.Sprintf("cache hits %g %%", 100*f.CacheHit))
	}
	if f.RebufferRatio > 0 {
		parts = append(parts, fmt.Sprintf("rebuffering %g %%", 100*f.RebufferRatio))
	}
	if f.StartupMs > 0 {
		parts = append(parts, fmt.Sprintf("start-up %g ms", f.StartupMs))
	}
	return fmt.Sprintf("%s %s: %s", f.CDN, where, strings.Join(parts, ", "))
}

// overrides reads the operator's actions.
func (b *binder) overrides(ofs []overrideFile) {
	cfg := b.sc.Policy.Config
	for i, of := range ofs {
		at := fmt.Sprintf("override[%d]", i)
		a := Action{Action: of.Action, CDN: of.CDN, Region: of.Region, Reason: of.Reason}
		o := health.Override{Action: of.Action, CDN: of.CDN, Region: of.Region}
		var fe *keyerr.Error
		if err := o.CheckTarget(&cfg); errors.As(err, &fe) {
			b.p.Add(at+"."+fe.Key, "override %d: %s", i+1, fe.Msg)
		}
		if of.At == nil || *of.At < 0 {
			b.p.Add(at, "override %d needs at (0 or more)", i+1)
			continue
		}
		if of.Duration == nil || *of.Duration <= 0 {
			b.p.Add(at, "override %d needs a positive duration", i+1)
			continue
		}
		a.At, a.Duration = *of.At, *of.Duration
		if a.Reason == "" {
			a.Reason = "scenario: " + a.Action
		}
		b.sc.Overrides = append(b.sc.Overrides, a)
	}
	// The runner puts them in force in time order.
	sort.SliceStable(b.sc.Overrides, func(i, j int) bool { return b.sc.Overrides[i].At < b.sc.Overrides[j].At })
}

// notes collects the timeline's annotations: each phase's start, then
// the file's own, in time order.
func (b *binder) notes(as []annotationFile) {
	for _, ph := range b.sc.Curve.Phases {
		if ph.Annotate {
			b.sc.Notes = append(b.sc.Notes, Note{At: ph.Start, Text: ph.Name, Tags: []string{"phase"}})
		}
	}
	for i, af := range as {
		at := fmt.Sprintf("annotation[%d]", i)
		if af.At == nil || *af.At < 0 || strings.TrimSpace(af.Text) == "" {
			b.p.Add(at, "annotation %d needs at (0 or more) and text", i+1)
			continue
		}
		b.sc.Notes = append(b.sc.Notes, Note{At: *af.At, Text: strings.TrimSpace(af.Text), Tags: af.Tags})
	}
	sort.SliceStable(b.sc.Notes, func(i, j int) bool { return b.sc.Notes[i].At < b.sc.Notes[j].At })
}
