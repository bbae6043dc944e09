package health

import (
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SignalAgeCollector exports when each CDN was last measured: the time
// of its newest signal and that signal's age, per region that has signals
// of its own and without a region for the signals of all regions (probes,
// most pushes). A feed that stops shows as an age that grows long before
// the CDN turns blind or the region stale, whatever the source. The
// series are CDN × region at most, whatever the number of policies.
type SignalAgeCollector struct {
	e         *Engine
	age, last *prometheus.Desc
}

// NewSignalAgeCollector returns the collector of e's signal ages.
func NewSignalAgeCollector(e *Engine) *SignalAgeCollector {
	l := []string{"cdn", "region"}
	return &SignalAgeCollector{e: e,
		age:  prometheus.NewDesc("cdnsteer_signal_age_seconds", "Age of the CDN's newest signal, of any kind and source; region is empty for signals of all regions.", l, nil),
		last: prometheus.NewDesc("cdnsteer_signal_last_timestamp_seconds", "When the CDN's newest signal was measured (unix time); region is empty for signals of all regions.", l, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *SignalAgeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.age
	ch <- c.last
}

// Collect implements prometheus.Collector.
func (c *SignalAgeCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now()
	for _, s := range c.e.signalTimes() {
		ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, max(0, now.Sub(s.newest).Seconds()), s.cdn, s.region)
		ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(s.newest.UnixNano())/1e9, s.cdn, s.region)
	}
}

type signalTime struct {
	cdn, region string
	newest      time.Time
}

// signalTimes is the newest signal's time per CDN and region of the
// policy in force (signals for CDNs or regions it does not have are left
// out, so that a push cannot add series), in order.
func (e *Engine) signalTimes() []signalTime {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []signalTime
	for k, r := range e.store {
		if e.cfg.CDNIndex(k.cdn) < 0 || k.region != "" && !slices.Contains(e.cfg.Regions, k.region) {
			continue
		}
		var newest time.Time
		for i := range r {
			if r[i].t.After(newest) {
				newest = r[i].t
			}
		}
		if !newest.IsZero() {
			out = append(out, signalTime{k.cdn, k.region, newest})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].cdn != out[j].cdn {
			return out[i].cdn < out[j].cdn
		}
		return out[i].region < out[j].region
	})
	return out
}
