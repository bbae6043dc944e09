package qoe

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

// Metrics are the cdnsteer_qoe_* series: labelled by cdn and region
// only, never by session or address. Counters a report touches are
// resolved once per topology, so counting costs an atomic add.
type Metrics struct {
	c         *Collector
	reports   *prometheus.CounterVec
	dropped   *prometheus.CounterVec
	capVec    *prometheus.CounterVec
	unknown   *prometheus.CounterVec
	sampled   prometheus.Counter
	malformed prometheus.Counter
	oversized prometheus.Counter

	// Resolved for the topology in force, [cdn][region] and [region];
	// read and replaced under the collector's lock.
	rReports, rDropped, rCapped [][]prometheus.Counter
	rUnknown                    []prometheus.Counter
}

// NewMetrics registers the QoE metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	cr := []string{"cdn", "region"}
	m := &Metrics{
		reports: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_qoe_reports_total",
			Help: "CMCD reports aggregated, by the CDN they were attributed to and the client's region."}, cr),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_qoe_dropped_values_total",
			Help: "Values of CMCD keys cdnsteer reads refused (wrong type, negative, absurd), the rest of their report counted."}, cr),
		capVec: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_qoe_capped_reports_total",
			Help: "CMCD reports dropped because their session sent more than 4 a second of the window."}, cr),
		unknown: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_qoe_unknown_cdn_reports_total",
			Help: "CMCD reports whose cdn, url host and pathway name no CDN of the policy, by region."}, []string{"region"}),
		sampled: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_qoe_sampled_out_reports_total",
			Help: "CMCD reports of sessions outside [qoe] sample (answered 410)."}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_qoe_malformed_reports_total",
			Help: "CMCD lines that are not an RFC 8941 dictionary, skipped."}),
		oversized: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_qoe_oversized_bodies_total",
			Help: "CMCD batches refused for a body over 64 KiB (413)."}),
	}
	reg.MustRegister(m.reports, m.dropped, m.capVec, m.unknown, m.sampled, m.malformed, m.oversized, &gauges{m: m})
	return m
}

func (m *Metrics) resolve(t *Topology) {
	grid := func(v *prometheus.CounterVec) [][]prometheus.Counter {
		out := make([][]prometheus.Counter, len(t.CDNs))
		for ci, cdn := range t.CDNs {
			out[ci] = make([]prometheus.Counter, len(t.Regions))
			for ri, region := range t.Regions {
				out[ci][ri] = v.WithLabelValues(cdn, region)
			}
		}
		return out
	}
	m.rReports, m.rDropped, m.rCapped = grid(m.reports), grid(m.dropped), grid(m.capVec)
	m.rUnknown = make([]prometheus.Counter, len(t.Regions))
	for ri, region := range t.Regions {
		m.rUnknown[ri] = m.unknown.WithLabelValues(region)
	}
}

func (m *Metrics) counted(cdn, region, dropped int) {
	if m == nil || m.rReports == nil {
		return
	}
	m.rReports[cdn][region].Inc()
	if dropped > 0 {
		m.rDropped[cdn][region].Add(float64(dropped))
	}
}

func (m *Metrics) capped(cdn, region int) {
	if m != nil && m.rCapped != nil {
		m.rCapped[cdn][region].Inc()
	}
}

func (m *Metrics) unknownCDN(region int) {
	if m != nil && m.rUnknown != nil && region < len(m.rUnknown) {
		m.rUnknown[region].Inc()
	}
}

// Malformed counts a line that is no dictionary, skipped.
func (c *Collector) Malformed() {
	if c.metrics != nil {
		c.metrics.malformed.Inc()
	}
}

// Oversized counts a batch refused for its size.
func (c *Collector) Oversized() {
	if c.metrics != nil {
		c.metrics.oversized.Inc()
	}
}

func (m *Metrics) sampledOut() {
	if m != nil {
		m.sampled.Inc()
	}
}

// gauges reports the last published window at scrape time: the sessions
// behind it and each QoE kind's value, per CDN and region.
type gauges struct{ m *Metrics }

var sessionsDesc = prometheus.NewDesc("cdnsteer_qoe_sessions",
	"Distinct sessions that reported in the last [qoe] window (a HyperLogLog estimate), by CDN and region.", []string{"cdn", "region"}, nil)

// kindDescs has a gauge per kind the players feed: cdnsteer_qoe_KEY.
var kindDescs = func() [health.NumKinds]*prometheus.Desc {
	var out [health.NumKinds]*prometheus.Desc
	for _, k := range health.FedBy(health.SourceCMCD) {
		info := k.Info()
		out[k] = prometheus.NewDesc("cdnsteer_qoe_"+info.Key,
			info.Label+" ("+info.Unit+") over the last [qoe] window, as published to the engine, by CDN and region.", []string{"cdn", "region"}, nil)
	}
	return out
}()

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- sessionsDesc
	for _, d := range kindDescs {
		if d != nil {
			ch <- d
		}
	}
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	c := g.m.c
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	nr := len(c.topo.Regions)
	for i, rd := range c.last {
		if rd.lines == 0 {
			continue
		}
		cdn, region := c.topo.CDNs[i/nr], c.topo.Regions[i%nr]
		ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, rd.sessions, cdn, region)
		for k, d := range kindDescs {
			if d != nil && rd.values[k] != nil {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, *rd.values[k], cdn, region)
			}
		}
	}
}
