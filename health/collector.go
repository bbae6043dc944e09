package health

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the engine's state at scrape time, so the numbers on
// /metrics are the ones /api/v1/state shows.
//
// Series are by what an operator graphs and alerts on, region × CDN,
// summed up over the policies: one label set per policy would make a
// thousand steered names a million series (1,000 policies × 20 regions ×
// 6 CDNs × each value), past what Prometheus scrapes in time. Counts
// (status, blind, probation, failed open, stale) say in how many policies
// the state holds, so with one policy they read 0 or 1 as before; the
// score is the lowest of the policies', weights and shares their mean;
// each policy's own values are in GET /api/v1/state?policy=NAME.
type Collector struct {
	e *Engine

	score, weight, baseline, share, status, signal, utilisation, failedOpen, stale, overrides *prometheus.Desc
	blind, probation, policies                                                                *prometheus.Desc
}

// NewCollector returns a collector of e's state; register it on the
// registry served at /metrics.
func NewCollector(e *Engine) *Collector {
	l := []string{"region", "cdn"}
	return &Collector{
		e:           e,
		score:       prometheus.NewDesc("cdnsteer_cdn_score", "Smoothed health score, 0..100: the lowest of the policies' (absent until measured).", l, nil),
		weight:      prometheus.NewDesc("cdnsteer_cdn_weight", "Live weight in force, mean over the policies.", l, nil),
		baseline:    prometheus.NewDesc("cdnsteer_cdn_baseline_weight", "Baseline (contract) weight, mean over the policies.", l, nil),
		share:       prometheus.NewDesc("cdnsteer_cdn_share", "Share of the region's new answers, 0..1, mean over the policies.", l, nil),
		status:      prometheus.NewDesc("cdnsteer_cdn_status", "Policies in which the CDN has this status in the region (healthy, degraded, recovering, drained).", append(l, "status"), nil),
		signal:      prometheus.NewDesc("cdnsteer_cdn_signal", "Fresh signal values the score was computed from.", append(l, "signal"), nil),
		utilisation: prometheus.NewDesc("cdnsteer_cdn_utilisation", "Delivered throughput as a share of the commit (the highest of the policies').", l, nil),
		failedOpen:  prometheus.NewDesc("cdnsteer_region_failed_open", "Policies in which every CDN of the region is out and the baseline serves.", []string{"region"}, nil),
		stale:       prometheus.NewDesc("cdnsteer_region_telemetry_stale", "Policies in which no CDN of the region has a fresh signal (fail static).", []string{"region"}, nil),
		overrides:   prometheus.NewDesc("cdnsteer_overrides_active", "Operator overrides in force, by action.", []string{"action"}, nil),
		blind:       prometheus.NewDesc("cdnsteer_cdn_blind", "Policies in which the CDN has no fresh health signal in the region (its split holds as last measured).", l, nil),
		probation:   prometheus.NewDesc("cdnsteer_cdn_probation", "Policies in which a degraded, blind CDN is re-admitted at a small share of the region.", l, nil),
		policies:    prometheus.NewDesc("cdnsteer_policies", "Policies loaded: what the per-policy counts above count out of.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.score, c.weight, c.baseline, c.share, c.status, c.signal, c.utilisation, c.failedOpen, c.stale, c.overrides, c.blind, c.probation, c.policies} {
		ch <- d
	}
	describePlans(ch)
}

var allStatuses = []Status{Healthy, Degraded, Recovering, Drained}

// cdnSum is one region and CDN over every policy.
type cdnSum struct {
	region, cdn                string
	score                      float64
	scored                     bool
	weight, baseline, share    float64
	status                     [4]int // by allStatuses
	blind, probation, policies int
	signals                    Values // the first policy's fresh values
	utilisation                float64
	utilised                   bool
}

// regionSum is one region over every policy.
type regionSum struct {
	name              string
	failedOpen, stale int
	ttl               uint32 // the shortest
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	var sum summary
	v := c.e.VisitView(now, sum.add)
	gauge := func(d *prometheus.Desc, val float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, val, labels...)
	}
	cdns, regions := sum.cdns, sum.regions
	for _, r := range regions {
		gauge(c.failedOpen, float64(r.failedOpen), r.name)
		gauge(c.stale, float64(r.stale), r.name)
	}
	for _, s := range cdns {
		l := []string{s.region, s.cdn}
		n := float64(s.policies)
		if s.scored {
			gauge(c.score, s.score, l...)
		}
		gauge(c.weight, s.weight/n, l...)
		gauge(c.baseline, s.baseline/n, l...)
		gauge(c.share, s.share/n, l...)
		gauge(c.blind, float64(s.blind), l...)
		gauge(c.probation, float64(s.probation), l...)
		for i, st := range allStatuses {
			gauge(c.status, float64(s.status[i]), s.region, s.cdn, string(st))
		}
		for k, val := range s.signals {
			if val != nil {
				gauge(c.signal, *val, s.region, s.cdn, Kind(k).Key())
			}
		}
		if s.utilised {
			gauge(c.utilisation, s.utilisation, l...)
		}
	}
	gauge(c.policies, float64(sum.policies))
	counts := map[string]int{ActionDrain: 0, ActionPin: 0, ActionFreeze: 0}
	for _, o := range v.Overrides {
		counts[o.Action]++
	}
	for a, n := range counts {
		gauge(c.overrides, float64(n), a)
	}
	c.collectPlans(ch, regions, now)
}

// summary folds a view's policies into one entry per region and CDN and
// one per region, in the order of the first policy that has them.
type summary struct {
	cdns     []*cdnSum
	regions  []*regionSum
	policies int
	last     string // the policy of the last region added
	byCDN    map[sumKey]*cdnSum
	byRegion map[string]*regionSum
}

type sumKey struct{ region, cdn string }

// add folds one region of a policy (VisitView's order: a policy's
// regions together).
func (sm *summary) add(policy string, r *RegionView) {
	if sm.byCDN == nil {
		sm.byCDN, sm.byRegion = map[sumKey]*cdnSum{}, map[string]*regionSum{}
	}
	if sm.policies == 0 || policy != sm.last {
		sm.policies++
		sm.last = policy
	}
	rs := sm.byRegion[r.Name]
	if rs == nil {
		rs = &regionSum{name: r.Name, ttl: r.TTL}
		sm.byRegion[r.Name] = rs
		sm.regions = append(sm.regions, rs)
	}
	rs.failedOpen += btoi(r.FailedOpen)
	rs.stale += btoi(r.Stale)
	rs.ttl = min(rs.ttl, r.TTL)
	for i := range r.CDNs {
		cv := &r.CDNs[i]
		s := sm.byCDN[sumKey{r.Name, cv.Name}]
		if s == nil {
			s = &cdnSum{region: r.Name, cdn: cv.Name}
			sm.byCDN[sumKey{r.Name, cv.Name}] = s
			sm.cdns = append(sm.cdns, s)
		}
		s.add(cv)
	}
}

func (s *cdnSum) add(cv *CDNView) {
	s.policies++
	if cv.Score != nil && (!s.scored || *cv.Score < s.score) {
		s.score, s.scored = *cv.Score, true
	}
	s.weight += cv.Weight
	s.baseline += cv.Baseline
	s.share += cv.Share
	for i, st := range allStatuses {
		if cv.Status == st {
			s.status[i]++
		}
	}
	s.blind += btoi(cv.Blind)
	s.probation += btoi(cv.Probation)
	for k, val := range cv.Signals.Values {
		if s.signals[k] == nil {
			s.signals[k] = val
		}
	}
	if cv.Utilisation != nil && (!s.utilised || *cv.Utilisation > s.utilisation) {
		s.utilisation, s.utilised = *cv.Utilisation, true
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
