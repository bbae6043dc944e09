package dnsserver

import "github.com/prometheus/client_golang/prometheus"

// TapMetrics count what dnstap logged and what it could not. They outlive
// each Tap: a reload that changes [dnstap] keeps counting on.
type TapMetrics struct {
	written                      prometheus.Counter
	rate, full, tooBig, noReader prometheus.Counter
	errors                       prometheus.Counter
	connected                    prometheus.Gauge
}

// NewTapMetrics registers dnstap's series on reg.
func NewTapMetrics(reg prometheus.Registerer) *TapMetrics {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnsteer_dnstap_dropped_total",
		Help: "Sampled queries not logged, by reason (rate: over [dnstap] rate; full: the writer fell behind; too_big: query and reply over the slot, the reply left out; no_reader: the destination could not be opened or written).",
	}, []string{"reason"})
	m := &TapMetrics{
		written: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnsteer_dnstap_messages_total",
			Help: "dnstap messages written (a sampled query with its reply makes two).",
		}),
		rate:     dropped.WithLabelValues("rate"),
		full:     dropped.WithLabelValues("full"),
		tooBig:   dropped.WithLabelValues("too_big"),
		noReader: dropped.WithLabelValues("no_reader"),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnsteer_dnstap_errors_total",
			Help: "Failures to open or write the dnstap destination (each one is retried with backoff).",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnsteer_dnstap_up",
			Help: "1 while the dnstap destination is open (socket connected past its handshake, or file open).",
		}),
	}
	reg.MustRegister(dropped, m.written, m.errors, m.connected)
	return m
}
