package sim

import (
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// regions reads the region mix and resolver populations, one per
// policy region, and normalises the shares.
func (b *binder) regions(f *scenarioFile) {
	cfg := b.sc.Policy.Config
	bitrate := DefaultBitrateMbps
	if f.Audience.BitrateMbps != nil {
		bitrate = *f.Audience.BitrateMbps
	}
	for name := range f.Region {
		if cfg.RegionIndex(name) < 0 {
			b.p.Add("region."+name, "region %q is not in policy %q (regions: %s)", name, b.sc.Policy.Name, strings.Join(cfg.Regions, ", "))
		}
	}
	total := 0.0
	for _, name := range cfg.Regions {
		r := Region{Name: name, BitrateMbps: bitrate, Resolvers: DefaultResolvers, ResolverSkew: DefaultResolverSkew,
			ECSShare: DefaultECSShare, ECSSubnets: DefaultECSSubnets, StretchShare: DefaultStretchShare, StretchTTL: DefaultStretchTTL}
		rf, ok := f.Region[name]
		if len(f.Region) == 0 && name == zones.DefaultRegion {
			// No mix given: the whole audience is in the default region.
			r.Share = 1
		}
		if ok {
			at := "region." + name
			b.setF(&r.Share, rf.Share, at+".share", 0, 1e9)
			if rf.Share == nil {
				b.p.Add(at, "region %q needs a share", name)
			}
			b.setF(&r.BitrateMbps, rf.BitrateMbps, at+".bitrate_mbps", 1e-3, 1e6)
			b.setI(&r.Resolvers, rf.Resolvers, at+".resolvers", 1, 1e6)
			b.setF(&r.ResolverSkew, rf.ResolverSkew, at+".resolver_skew", 0, 10)
			b.setF(&r.ECSShare, rf.ECSShare, at+".ecs_share", 0, 1)
			b.setI(&r.ECSSubnets, rf.ECSSubnets, at+".ecs_subnets", 1, 1e5)
			b.setF(&r.StretchShare, rf.StretchShare, at+".stretch_share", 0, 1)
			if rf.StretchTTL != nil {
				r.StretchTTL = *rf.StretchTTL
				if r.StretchTTL <= 0 {
					b.p.Add(at+".stretch_ttl", "stretch_ttl must be positive")
				}
			}
		}
		total += r.Share
		b.sc.Regions = append(b.sc.Regions, r)
	}
	b.asnSplits(f)
	if total <= 0 {
		b.p.Add("region", "the region shares add up to 0: nobody is watching")
		return
	}
	for i := range b.sc.Regions {
		b.sc.Regions[i].Share /= total
	}
}

// telemetry reads how measurements reach the engine.
func (b *binder) telemetry(t *telemetryFile) {
	tm := Telemetry{Interval: b.sc.Policy.Params.EvalInterval, Noise: DefaultNoise}
	dur := func(dst *time.Duration, v *time.Duration, key string, positive bool) {
		if v == nil {
			return
		}
		*dst = *v
		if *v < 0 || (positive && *v == 0) {
			b.p.Add("telemetry."+key, "telemetry.%s must be %s", key, map[bool]string{true: "positive", false: "0 or more"}[positive])
		}
	}
	dur(&tm.Interval, t.Interval, "interval", true)
	dur(&tm.Delay, t.Delay, "delay", false)
	dur(&tm.ThroughputDelay, t.ThroughputDelay, "throughput_delay", false)
	b.telemetryModel(&tm, t)
	b.sc.Telemetry = tm
}
