package zones

import (
	"fmt"
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
	set(&p.StaticDrift, pc.StaticDrift)
	c.scoreBounds(at, name, &p, &pc.Score)
	c.gates(at, name, &p, pc)
	c.keyErrors(at, fmt.Sprintf("policy %q: ", name), "", p.Validate())
	return p
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
	c.keyErrors("prometheus", "", "prometheus.", pc.Validate())
	p := pc.WithDefaults()
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
