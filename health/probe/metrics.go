package probe

import (
	"github.com/prometheus/client_golang/prometheus"
)

// phases name the duration histogram's phase label, in the order of
// cdnMetrics.phases.
var phases = [...]string{"dns", "connect", "tls", "ttfb", "transfer", "total"}

// metrics are the Runner's Prometheus series.
type metrics struct {
	duration    *prometheus.HistogramVec
	results     *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
	ttfb        *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cdnsteer_probe_duration_seconds",
			Help:    "Duration of each phase of CDN probes (dns, connect, tls, ttfb, transfer, total); phases that did not happen are not observed.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"cdn", "phase"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_probe_total",
			Help: "CDN probes run, by result (success, error, timeout).",
		}, []string{"cdn", "result"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cdnsteer_probe_last_success_timestamp_seconds",
			Help: "Unix time at which the last successful probe of the CDN ended.",
		}, []string{"cdn"}),
		ttfb: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cdnsteer_probe_ttfb_seconds",
			Help: "Time to first byte of the CDN's last probe; the timeout when it failed, as the health signal reports it.",
		}, []string{"cdn"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.results, m.lastSuccess, m.ttfb)
	}
	return m
}

// cdnMetrics are one CDN's series, resolved when its probe starts so that
// a probe costs no label lookups.
type cdnMetrics struct {
	phases                    [len(phases)]prometheus.Observer
	success, failure, timeout prometheus.Counter
	lastSuccess, ttfb         prometheus.Gauge
}

func (m *metrics) forCDN(cdn string) *cdnMetrics {
	c := &cdnMetrics{
		success:     m.results.WithLabelValues(cdn, "success"),
		failure:     m.results.WithLabelValues(cdn, "error"),
		timeout:     m.results.WithLabelValues(cdn, "timeout"),
		lastSuccess: m.lastSuccess.WithLabelValues(cdn),
		ttfb:        m.ttfb.WithLabelValues(cdn),
	}
	for i, p := range phases {
		c.phases[i] = m.duration.WithLabelValues(cdn, p)
	}
	return c
}

// remove deletes a CDN's series, so that a CDN dropped from the policy
// does not linger on dashboards with its last values.
func (m *metrics) remove(cdn string) {
	l := prometheus.Labels{"cdn": cdn}
	m.duration.DeletePartialMatch(l)
	m.results.DeletePartialMatch(l)
	m.lastSuccess.DeletePartialMatch(l)
	m.ttfb.DeletePartialMatch(l)
}

func (c *cdnMetrics) observe(r Result) {
	for i, d := range [len(phases)]float64{
		r.DNS.Seconds(), r.Connect.Seconds(), r.TLS.Seconds(),
		r.TTFB.Seconds(), r.Transfer.Seconds(), r.Total.Seconds(),
	} {
		if d > 0 {
			c.phases[i].Observe(d)
		}
	}
	switch {
	case r.Err == nil:
		c.success.Inc()
		c.lastSuccess.Set(float64(r.Start.Add(r.Total).UnixNano()) / 1e9)
	case r.TimedOut():
		c.timeout.Inc()
	default:
		c.failure.Inc()
	}
	c.ttfb.Set(r.reportedTTFB().Seconds())
}
