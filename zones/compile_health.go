package zones

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/prom"
)

// params compiles a policy's scoring keys over the defaults.
func (c *compiler) params(at, name string, pc *PolicyConfig) health.Params {
	p := health.DefaultParams()
	setD := func(dst *time.Duration, v *time.Duration) {
		if v != nil {
			*dst = *v
		}
	}
	setF := func(dst *float64, v *float64) {
		if v != nil {
			*dst = *v
		}
	}
	setI := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setD(&p.EvalInterval, pc.EvaluationInterval)
	setD(&p.SignalMaxAge, pc.SignalMaxAge)
	setF(&p.SmoothingDown, pc.SmoothingDown)
	setF(&p.SmoothingUp, pc.SmoothingUp)
	setF(&p.DownThreshold, pc.DownThreshold)
	setF(&p.UpThreshold, pc.UpThreshold)
	setI(&p.DownAfter, pc.DownAfter)
	setI(&p.UpAfter, pc.UpAfter)
	setF(&p.RecoveryStep, pc.RecoveryStep)
	setF(&p.CapacitySoft, pc.CapacitySoft)
	setF(&p.CapacityHard, pc.CapacityHard)
	setD(&p.StaticDrift, pc.StaticDrift)
	bounds := func(dst *health.Bounds, b *BoundsConfig) {
		if b == nil {
			return
		}
		setF(&dst.Weight, b.Weight)
		setF(&dst.Good, b.Good)
		setF(&dst.Bad, b.Bad)
	}
	bounds(&p.TTFB, pc.Score.TTFB)
	bounds(&p.ErrorRate, pc.Score.ErrorRate)
	bounds(&p.CacheHit, pc.Score.CacheHit)
	bounds(&p.Throughput, pc.Score.Throughput)
	bounds(&p.Download, pc.Score.Download)
	if err := p.Validate(); err != nil {
		// Point at the first key the message names that the file sets.
		where := at
		for _, word := range keyWord.FindAllString(err.Error(), -1) {
			if _, ok := c.el.lines[at+"."+word]; ok {
				where = at + "." + word
				break
			}
		}
		c.el.Add(where, "policy %q: %v", name, err)
	}
	return p
}

// Prometheus is the resolved [prometheus] table.
type Prometheus struct {
	URL      string
	Interval time.Duration
	Timeout  time.Duration
	Queries  map[string]string
	Samples  string
}

// Defaults of [prometheus].
const (
	DefaultPromInterval = prom.DefaultInterval
	DefaultPromTimeout  = prom.DefaultTimeout
)

var promSignals = []string{health.KindTTFB, health.KindErrorRate, health.KindCacheHit, health.KindThroughput}

func (c *compiler) prometheus(pc *PrometheusConfig) *Prometheus {
	if pc == nil {
		return nil
	}
	p := &Prometheus{URL: pc.URL, Interval: DefaultPromInterval, Timeout: DefaultPromTimeout, Queries: pc.Queries, Samples: pc.Samples}
	if u, err := url.Parse(pc.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		c.el.Add("prometheus.url", "prometheus: url %q must be an absolute http:// or https:// URL", pc.URL)
	}
	if pc.Interval != nil {
		p.Interval = *pc.Interval
	}
	if pc.Timeout != nil {
		p.Timeout = *pc.Timeout
	}
	if p.Interval <= 0 || p.Timeout <= 0 || p.Timeout > p.Interval {
		c.el.Add("prometheus", "prometheus: interval and timeout must be positive, timeout at most the interval")
	}
	if len(pc.Queries) == 0 {
		c.el.Add("prometheus", "prometheus: [prometheus.queries] needs at least one of %s", strings.Join(promSignals, ", "))
	}
	for _, k := range sortedKeys(pc.Queries) {
		known := false
		for _, s := range promSignals {
			known = known || s == k
		}
		if !known {
			c.el.Add("prometheus.queries."+k, "prometheus: unknown query %q (use %s)", k, strings.Join(promSignals, ", "))
		}
		if strings.TrimSpace(pc.Queries[k]) == "" {
			c.el.Add("prometheus.queries."+k, "prometheus: query %q is empty", k)
		}
	}
	return p
}

var keyWord = regexp.MustCompile(`[a-z_]+(\.[a-z_]+)?`)

var regionInError = regexp.MustCompile(`region "([^"]+)"`)

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
		for _, line := range strings.Split(err.Error(), "\n") {
			at := "regions"
			if m := regionInError.FindStringSubmatch(line); m != nil {
				at = "regions." + m[1]
			}
			c.el.Add(at, "%s", line)
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
		pi := health.PolicyInfo{Name: p.Name, Params: p.Params, TTL: time.Duration(p.TTL) * time.Second}
		for _, w := range p.Baseline {
			pi.Baseline = append(pi.Baseline, append([]float64(nil), w.W...))
		}
		cfg.Policies = append(cfg.Policies, pi)
	}
	return cfg
}

func (p *Prometheus) String() string {
	return fmt.Sprintf("%s every %s (%d queries)", p.URL, p.Interval, len(p.Queries))
}
