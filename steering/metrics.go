package steering

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

// Metrics are the steering endpoint's Prometheus metrics. The request path
// reaches its counters through slices resolved once per snapshot, so that
// counting costs an atomic add, not a label lookup.
type Metrics struct {
	requests   *prometheus.CounterVec
	moves      *prometheus.CounterVec
	badReqs    *prometheus.CounterVec
	throughput *prometheus.HistogramVec
	// ttlStretched counts manifests whose TTL load stretched.
	ttlStretched prometheus.Counter
	sessions     *Sessions
	resolved     atomic.Pointer[resolved]
	bad          func(reason string)
}

// resolved are the counters of one snapshot's regions and CDNs.
type resolved struct {
	snap       *zones.Snapshot
	first      [][]prometheus.Counter   // [region][cdn]
	moves      [][][]prometheus.Counter // [region][from][to]
	throughput []prometheus.Observer    // [cdn]
}

// NewMetrics registers the steering metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_steering_requests_total",
			Help: "Steering manifests served, by the client's region and the first pathway's CDN.",
		}, []string{"region", "cdn"}),
		moves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_steering_moves_total",
			Help: "Manifests whose first pathway is not the player's current one, by region, the CDN left and the CDN given.",
		}, []string{"region", "from", "to"}),
		badReqs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_steering_bad_requests_total",
			Help: "Steering requests refused (404, 400, 405) or with an X-Forwarded-For ignored, by reason.",
		}, []string{"reason"}),
		throughput: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cdnsteer_steering_throughput_bits_per_second",
			Help:    "Throughput players report (_HLS_throughput, _DASH_throughput), by the CDN they are on.",
			Buckets: prometheus.ExponentialBuckets(250e3, 2, 10),
		}, []string{"cdn"}),
		ttlStretched: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cdnsteer_steering_ttl_stretched_total",
			Help: "Manifests served with a TTL lengthened because many requests were in flight.",
		}),
		sessions: NewSessions(DefaultSessionSlots),
	}
	// Resolved up front and read-only after: counting takes no lock.
	bad := map[string]prometheus.Counter{}
	for _, r := range []string{reasonUnknownName, reasonBadPath, reasonMethod, reasonOversized, reasonThroughput, reasonPathway, reasonSID, reasonQuery, reasonNoSteering, reasonXFFIgnored, reasonXFFInvalid} {
		bad[r] = m.badReqs.WithLabelValues(r)
	}
	m.bad = func(reason string) { bad[reason].Inc() }
	reg.MustRegister(m.requests, m.moves, m.badReqs, m.throughput, m.ttlStretched, &sessionCollector{m: m})
	return m
}

// forSnap returns the counters resolved for snap, resolving them on the
// first request after a reload. Two requests racing there both resolve;
// the vectors hand them the same counters.
func (m *Metrics) forSnap(snap *zones.Snapshot) *resolved {
	if r := m.resolved.Load(); r != nil && r.snap == snap {
		return r
	}
	r := &resolved{snap: snap}
	r.first = make([][]prometheus.Counter, len(snap.Regions))
	r.moves = make([][][]prometheus.Counter, len(snap.Regions))
	for ri, region := range snap.Regions {
		r.first[ri] = make([]prometheus.Counter, len(snap.CDNs))
		r.moves[ri] = make([][]prometheus.Counter, len(snap.CDNs))
		for ci, cdn := range snap.CDNs {
			r.first[ri][ci] = m.requests.WithLabelValues(region.Name, cdn.Name)
			r.moves[ri][ci] = make([]prometheus.Counter, len(snap.CDNs))
			for ti, to := range snap.CDNs {
				if ti != ci {
					r.moves[ri][ci][ti] = m.moves.WithLabelValues(region.Name, cdn.Name, to.Name)
				}
			}
		}
	}
	r.throughput = make([]prometheus.Observer, len(snap.CDNs))
	for ci, cdn := range snap.CDNs {
		r.throughput[ci] = m.throughput.WithLabelValues(cdn.Name)
	}
	m.resolved.Store(r)
	return r
}

// count records one manifest served.
func (m *Metrics) count(snap *zones.Snapshot, region, first, current int, p params) {
	r := m.forSnap(snap)
	if region >= len(r.first) || first >= len(r.first[region]) {
		return
	}
	r.first[region][first].Inc()
	if current >= 0 {
		if current != first {
			r.moves[region][current][first].Inc()
		}
		if p.throughput >= 0 {
			r.throughput[current].Observe(p.throughput)
		}
	}
	if p.sid != "" {
		m.sessions.See(p.sid, region, first, time.Now())
	}
}

// sessionCollector reports the sessions sketch at scrape time.
type sessionCollector struct{ m *Metrics }

var sessionsDesc = prometheus.NewDesc("cdnsteer_steering_sessions",
	"Player sessions (distinct sid) that asked within the last three TTLs, by region and the CDN they were given first; a linear-counting estimate (steering/sessions.go).",
	[]string{"region", "cdn"}, nil)

func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) { ch <- sessionsDesc }

func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.m.resolved.Load()
	if r == nil {
		return
	}
	snap := r.snap
	ttl := uint32(zones.DefaultSteeringTTL)
	if snap.Steering != nil {
		ttl = snap.Steering.TTL
	}
	est := c.m.sessions.Estimate(len(snap.Regions), len(snap.CDNs), time.Now(), time.Duration(3*ttl)*time.Second)
	for ri, region := range snap.Regions {
		for ci, cdn := range snap.CDNs {
			ch <- prometheus.MustNewConstMetric(sessionsDesc, prometheus.GaugeValue, est[ri][ci], region.Name, cdn.Name)
		}
	}
}
