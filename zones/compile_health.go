package zones

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/prom"
)

// params compiles a policy's scoring keys over the defaults.
func (c *compiler) params(at, name string, pc *PolicyConfig) health.Params {
	p := health.DefaultParams()
	set(&p.EvalInterval, pc.EvaluationInterval)
	set(&p.SignalMaxAge, pc.SignalMaxAge)
	set(&p.SmoothingDown, pc.SmoothingDown)
	set(&p.SmoothingUp, pc.SmoothingUp)
	set(&p.DownThreshold, pc.DownThreshold)
	set(&p.UpThreshold, pc.UpThreshold)
	set(&p.DownAfter, pc.DownAfter)
	set(&p.UpAfter, pc.UpAfter)
	set(&p.RecoveryStep, pc.RecoveryStep)
	set(&p.CapacitySoft, pc.CapacitySoft)
	set(&p.CapacityHard, pc.CapacityHard)
	set(&p.CapacityDeadBand, pc.CapacityDeadBand)
	set(&p.CapacityMaxMove, pc.CapacityMaxMove)
	set(&p.FollowShare, pc.FollowShare)
	set(&p.StaticDrift, pc.StaticDrift)
	c.scoreBounds(at, name, &p, &pc.Score)
	c.gates(at, name, &p, pc)
	c.keyErrors(at, fmt.Sprintf("policy %q: ", name), "", p.Validate())
	return p
}

// regionCommits reads each [cdn.NAME.region.REGION] commit_gbps into
// its CDN: the region must be one of [regions], the commit a positive
// number.
func (c *compiler) regionCommits(m map[string]CDNConfig, s *Snapshot) {
	for i := range s.CDNs {
		cdn := &s.CDNs[i]
		rm := m[cdn.Name].Region
		for _, region := range sortedKeys(rm) {
			at := "cdn." + cdn.Name + ".region." + region
			if !slices.ContainsFunc(s.Regions, func(r Region) bool { return r.Name == region }) {
				c.el.Add(at, "cdn %q: region %q is not one of [regions]", cdn.Name, region)
				continue
			}
			v := rm[region].CommitGbps
			if v == nil {
				c.el.Add(at, "cdn %q: region %q needs commit_gbps", cdn.Name, region)
				continue
			}
			if !(*v > 0) || math.IsInf(*v, 0) {
				c.el.Add(at+".commit_gbps", "cdn %q: region %q: commit_gbps must be a positive number", cdn.Name, region)
				continue
			}
			if cdn.RegionCommitGbps == nil {
				cdn.RegionCommitGbps = map[string]float64{}
			}
			cdn.RegionCommitGbps[region] = *v
		}
	}
}

// set overwrites *dst with *v when the policy file gave v.
func set[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

// prometheus is the [prometheus] table with its defaults filled in, or
// nil when the file has none. The source's package declares the keys,
// their defaults and their bounds.
func (c *compiler) prometheus(pc *prom.Config) *prom.Config {
	if pc == nil {
		return nil
	}
	// The auth files are relative to the policy's folder, as every path.
	q := *pc
	a := &q.Auth
	for _, f := range []*string{&a.BearerTokenFile, &a.BasicAuthPasswordFile, &a.CAFile, &a.CertFile, &a.KeyFile} {
		*f = c.path(*f)
	}
	c.keyErrors("prometheus", "", "prometheus.", q.Validate())
	p := q.WithDefaults()
	return &p
}

// geoTable compiles [regions] and [[geo.network]] into the lookup table.
// Its region indexes are the snapshot's.
func (c *compiler) geoTable(s *Snapshot) *geo.Table {
	specs := make([]geo.RegionSpec, len(s.Regions))
	for i, r := range s.Regions {
		specs[i] = geo.RegionSpec{Name: r.Name, Codes: r.Codes}
	}
	nets := make([]geo.NetworkSpec, len(s.Geo.Networks))
	for i, n := range s.Geo.Networks {
		nets[i] = geo.NetworkSpec{Prefix: n.Prefix, Region: n.Region}
	}
	t, err := geo.NewTable(specs, nets)
	if err != nil {
		c.keyErrors("regions", "", "regions.", err)
		return nil
	}
	if t.ASNs() && s.Geo.ASNDatabase == "" {
		for _, r := range s.Regions {
			for _, code := range r.Codes {
				if strings.HasPrefix(code, "asn:") {
					c.el.Add("regions."+r.Name, "region %q: %q needs [geo] asn_database (a GeoLite2-ASN or GeoIP2-ISP file)", r.Name, code)
				}
			}
		}
		return nil
	}
	for _, w := range t.Warnings() {
		if c.implicitDefault && strings.Contains(w, `region "default"`) {
			continue
		}
		s.Warnings = append(s.Warnings, w)
	}
	return t
}

// Health is what the health engine needs of this snapshot; its indexes
// are the snapshot's.
func (s *Snapshot) Health() health.Config {
	cfg := health.Config{Regions: make([]string, len(s.Regions))}
	for i, r := range s.Regions {
		cfg.Regions[i] = r.Name
	}
	for _, c := range s.CDNs {
		cfg.CDNs = append(cfg.CDNs, health.CDNInfo{Name: c.Name, CommitGbps: c.CommitGbps})
		if c.RegionCommitGbps != nil {
			if cfg.RegionCommitGbps == nil {
				cfg.RegionCommitGbps = map[string]map[string]float64{}
			}
			cfg.RegionCommitGbps[c.Name] = c.RegionCommitGbps
		}
	}
	for _, p := range s.Policies {
		pi := health.PolicyInfo{Name: p.Name, Params: p.Params, TTL: time.Duration(p.TTL) * time.Second, TTLInFlux: time.Duration(p.TTLInFlux) * time.Second}
		for _, w := range p.Baseline {
			pi.Baseline = append(pi.Baseline, append([]float64(nil), w.W...))
		}
		cfg.Policies = append(cfg.Policies, pi)
	}
	cfg.Plans, cfg.Schedules = s.Plans, s.Schedules
	return cfg
}
