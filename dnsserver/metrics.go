package dnsserver

import (
	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/zones"
)

// Metrics are the nameserver's Prometheus series. Label values are
// resolved to counters when a snapshot is installed, never per query.
//
// Their number must not grow with the steered names: answers are counted
// by region and CDN (a policy label made 120,000 series for 1,000 names
// of 20 regions and 6 CDNs, most of them zero), and of the queries by
// zone, type and rcode only those that happened are exported.
type Metrics struct {
	reg      prometheus.Registerer
	queries  *prometheus.CounterVec
	answers  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	dropped  *prometheus.CounterVec
	udp, tcp prometheus.Observer

	droppedShort, droppedResponse, panics prometheus.Counter

	// geo counts region lookups by how they were decided, indexed by
	// geo.Source; "none" is a lookup that found no region (a failure).
	geo [geo.NumSources]prometheus.Counter
}

// NewMetrics registers the nameserver's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_dns_queries_total",
			Help: "DNS queries answered, by zone (\"\" when no zone matched), query type and response code.",
		}, []string{"zone", "qtype", "rcode"}),
		answers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_dns_answers_total",
			Help: "Steered answers given, by region and chosen CDN (every policy's).",
		}, []string{"region", "cdn"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cdnsteer_dns_query_duration_seconds",
			Help:    "Time to build a reply, by transport; on the UDP fast path one query in 16 is timed.",
			Buckets: []float64{5e-6, 10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 5e-3},
		}, []string{"proto"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_dns_dropped_total",
			Help: "Packets not answered, by reason (short: no full header; response: a reply sent to us; panic: a bug, recovered).",
		}, []string{"reason"}),
	}
	geoLookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnsteer_geo_lookups_total",
		Help: "Region lookups for steered answers, by what decided the region (network, country, continent, default; none: nothing matched and the default region served).",
	}, []string{"source"})
	for i := range m.geo {
		m.geo[i] = geoLookups.WithLabelValues(geo.Source(i).String())
	}
	reg.MustRegister(nonZero{m.queries}, m.answers, m.duration, m.dropped, geoLookups)
	m.udp = m.duration.WithLabelValues("udp")
	m.tcp = m.duration.WithLabelValues("tcp")
	m.droppedShort = m.dropped.WithLabelValues("short")
	m.droppedResponse = m.dropped.WithLabelValues("response")
	m.panics = m.dropped.WithLabelValues("panic")
	return m
}

// countedTypes get their own qtype label; the rest count as "other" so
// that a flood of random types cannot blow up the series count.
var countedTypes = []uint16{
	dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeANY, dns.TypeNS, dns.TypeSOA,
	dns.TypeTXT, dns.TypeMX, dns.TypeCAA, dns.TypeHTTPS, dns.TypeSVCB, dns.TypeSRV,
	dns.TypePTR, dns.TypeDS, dns.TypeDNSKEY,
}

var countedRcodes = []int{
	dns.RcodeSuccess, dns.RcodeFormatError, dns.RcodeServerFailure, dns.RcodeNameError,
	dns.RcodeNotImplemented, dns.RcodeRefused, dns.RcodeBadVers,
}

func qtypeIndex(t uint16) int {
	for i, c := range countedTypes {
		if c == t {
			return i
		}
	}
	return len(countedTypes)
}

func rcodeIndex(r int) int {
	for i, c := range countedRcodes {
		if c == r {
			return i
		}
	}
	return len(countedRcodes)
}

// counters are the pre-resolved series of one snapshot.
type counters struct {
	// queries[zone][qtype][rcode]; the last zone index is "no zone".
	queries [][][]prometheus.Counter
	// answers[policy][region][cdn]; every policy's [region][cdn] is the
	// same, as the series have no policy label.
	answers [][][]prometheus.Counter
}

func (m *Metrics) resolve(s *zones.Snapshot) *counters {
	c := &counters{}
	zoneNames := make([]string, 0, len(s.Zones)+1)
	for _, z := range s.Zones {
		zoneNames = append(zoneNames, z.Origin)
	}
	zoneNames = append(zoneNames, "")
	for _, z := range zoneNames {
		byType := make([][]prometheus.Counter, len(countedTypes)+1)
		for ti := range byType {
			qt := "other"
			if ti < len(countedTypes) {
				qt = dns.TypeToString[countedTypes[ti]]
			}
			byType[ti] = make([]prometheus.Counter, len(countedRcodes)+1)
			for ri := range byType[ti] {
				rc := "other"
				switch {
				case ri < len(countedRcodes) && countedRcodes[ri] == dns.RcodeBadVers:
					// 16 is BADSIG in TSIG and BADVERS in EDNS; the
					// library's table says BADSIG.
					rc = "BADVERS"
				case ri < len(countedRcodes):
					rc = dns.RcodeToString[countedRcodes[ri]]
				}
				byType[ti][ri] = m.queries.WithLabelValues(z, qt, rc)
			}
		}
		c.queries = append(c.queries, byType)
	}
	byRegion := make([][]prometheus.Counter, len(s.Regions))
	for ri, r := range s.Regions {
		byRegion[ri] = make([]prometheus.Counter, len(s.CDNs))
		for ci, cdn := range s.CDNs {
			byRegion[ri][ci] = m.answers.WithLabelValues(r.Name, cdn.Name)
		}
	}
	c.answers = make([][][]prometheus.Counter, len(s.Policies))
	for pi := range c.answers {
		c.answers[pi] = byRegion
	}
	return c
}

// nonZero exports the series of a counter vector that have counted
// something: the queries are resolved for every zone, type and rcode
// ahead of the query path, and a thousand zones would otherwise export
// 128,000 zeros.
type nonZero struct{ *prometheus.CounterVec }

// Collect implements prometheus.Collector.
func (n nonZero) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 256)
	go func() {
		n.CounterVec.Collect(all)
		close(all)
	}()
	var m dto.Metric
	for c := range all {
		m.Reset()
		if err := c.Write(&m); err == nil && m.GetCounter().GetValue() == 0 {
			continue
		}
		ch <- c
	}
}
