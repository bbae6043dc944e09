package prom

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of cdnsteer_prometheus_query_total.
const (
	resultSuccess = "success"
	resultError   = "error"
)

// metrics are the source's own series, so that a dashboard shows when the
// shared view of the CDNs is itself unhealthy.
type metrics struct {
	queries     *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess prometheus.Gauge
	dropped     *prometheus.CounterVec
}

// newMetrics registers the series on reg, with every label combination of
// the configured queries already at zero so that rate() and absent()
// alerts work from the first scrape.
func newMetrics(reg prometheus.Registerer, keys []string) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_prometheus_query_total",
			Help: "PromQL queries run against Prometheus, by signal and result (success, error).",
		}, []string{"signal", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cdnsteer_prometheus_query_duration_seconds",
			Help:    "Time a PromQL query took, failed ones included, by signal.",
			Buckets: prometheus.DefBuckets,
		}, []string{"signal"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnsteer_prometheus_last_success_timestamp_seconds",
			Help: "Unix time of the last round in which every query succeeded; 0 before the first.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_prometheus_dropped_series_total",
			Help: "Series of query results not turned into signals, by signal and reason (no_cdn, not_finite, out_of_range, duplicate).",
		}, []string{"signal", "reason"}),
	}
	cs := []prometheus.Collector{m.queries, m.duration, m.lastSuccess, m.dropped}
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			// Leave reg as it was, so that a corrected config can register again.
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("register metrics: another prometheus source uses this registry: %w", err)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	for _, k := range keys {
		m.queries.WithLabelValues(k, resultSuccess)
		m.queries.WithLabelValues(k, resultError)
		m.duration.WithLabelValues(k)
		for _, r := range dropReasons {
			m.dropped.WithLabelValues(k, r)
		}
	}
	return m, nil
}
