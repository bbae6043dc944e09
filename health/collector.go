package health

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the engine's state at scrape time, so the numbers on
// /metrics are the ones /api/v1/state shows.
type Collector struct {
	e *Engine

	score, weight, baseline, share, status, signal, utilisation, failedOpen, stale, overrides *prometheus.Desc
	blind, probation                                                                          *prometheus.Desc
}

// NewCollector returns a collector of e's state; register it on the
// registry served at /metrics.
func NewCollector(e *Engine) *Collector {
	l := []string{"policy", "region", "cdn"}
	return &Collector{
		e:           e,
		score:       prometheus.NewDesc("cdnsteer_cdn_score", "Smoothed health score, 0..100 (absent until measured).", l, nil),
		weight:      prometheus.NewDesc("cdnsteer_cdn_weight", "Live weight in force.", l, nil),
		baseline:    prometheus.NewDesc("cdnsteer_cdn_baseline_weight", "Baseline (contract) weight from the policy.", l, nil),
		share:       prometheus.NewDesc("cdnsteer_cdn_share", "Share of the region's new answers, 0..1.", l, nil),
		status:      prometheus.NewDesc("cdnsteer_cdn_status", "1 for the CDN's current status (healthy, degraded, recovering, drained).", append(l, "status"), nil),
		signal:      prometheus.NewDesc("cdnsteer_cdn_signal", "Fresh signal values the score was computed from.", append(l, "signal"), nil),
		utilisation: prometheus.NewDesc("cdnsteer_cdn_utilisation", "Delivered throughput as a share of the commit.", l, nil),
		failedOpen:  prometheus.NewDesc("cdnsteer_region_failed_open", "1 while every CDN of the region is out and the baseline serves.", []string{"policy", "region"}, nil),
		stale:       prometheus.NewDesc("cdnsteer_region_telemetry_stale", "1 while no CDN of the region has a fresh signal (fail static).", []string{"policy", "region"}, nil),
		overrides:   prometheus.NewDesc("cdnsteer_overrides_active", "Operator overrides in force, by action.", []string{"action"}, nil),
		blind:       prometheus.NewDesc("cdnsteer_cdn_blind", "1 while the CDN has no fresh health signal in the region (its split holds as last measured).", l, nil),
		probation:   prometheus.NewDesc("cdnsteer_cdn_probation", "1 while a degraded, blind CDN is re-admitted at a small share of the region.", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.score, c.weight, c.baseline, c.share, c.status, c.signal, c.utilisation, c.failedOpen, c.stale, c.overrides, c.blind, c.probation} {
		ch <- d
	}
	describePlans(ch)
}

var allStatuses = []Status{Healthy, Degraded, Recovering, Drained}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	v := c.e.View(now)
	gauge := func(d *prometheus.Desc, val float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, val, labels...)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	for _, p := range v.Policies {
		for _, r := range p.Regions {
			gauge(c.failedOpen, b2f(r.FailedOpen), p.Name, r.Name)
			gauge(c.stale, b2f(r.Stale), p.Name, r.Name)
			for _, cdn := range r.CDNs {
				l := []string{p.Name, r.Name, cdn.Name}
				if cdn.Score != nil {
					gauge(c.score, *cdn.Score, l...)
				}
				gauge(c.weight, cdn.Weight, l...)
				gauge(c.baseline, cdn.Baseline, l...)
				gauge(c.share, cdn.Share, l...)
				gauge(c.blind, b2f(cdn.Blind), l...)
				gauge(c.probation, b2f(cdn.Probation), l...)
				for _, s := range allStatuses {
					gauge(c.status, b2f(cdn.Status == s), append(l, string(s))...)
				}
				for k, val := range cdn.Signals.Map() {
					gauge(c.signal, val, append(l, k)...)
				}
				if cdn.Utilisation != nil {
					gauge(c.utilisation, *cdn.Utilisation, l...)
				}
			}
		}
	}
	counts := map[string]int{ActionDrain: 0, ActionPin: 0, ActionFreeze: 0}
	for _, o := range v.Overrides {
		counts[o.Action]++
	}
	for a, n := range counts {
		gauge(c.overrides, float64(n), a)
	}
	c.collectPlans(ch, v, now)
}
