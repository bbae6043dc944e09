package fleet

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Status is GET /api/v1/fleet: this instance's view of the fleet.
type Status struct {
	Enabled   bool   `json:"enabled"`
	Instance  string `json:"instance"`
	Bucket    string `json:"bucket"`
	Connected bool   `json:"connected"`
	Server    string `json:"server,omitempty"`
	Error     string `json:"error,omitempty"`
	// Digest is this instance's override set; Agrees says whether every
	// instance seen lately has the same.
	Digest         string     `json:"digest"`
	Agrees         bool       `json:"agrees"`
	SyncLagSeconds float64    `json:"sync_lag_seconds"`
	Unreplicated   int        `json:"unreplicated"`
	Instances      []Instance `json:"instances"`
}

// Instance is one member of the fleet as this instance sees it.
type Instance struct {
	Instance       string    `json:"instance"`
	Self           bool      `json:"self,omitempty"`
	LastContact    time.Time `json:"last_contact"`
	Stale          bool      `json:"stale"`
	Digest         string    `json:"digest"`
	Overrides      int       `json:"overrides"`
	SyncLagSeconds float64   `json:"sync_lag_seconds"`
	Agrees         bool      `json:"agrees"`
}

// Status answers GET /api/v1/fleet: this instance's own digest as it is
// now, the peers' as their last heartbeats told.
func (f *Fleet) Status(now time.Time) any {
	overrides := f.cfg.Engine.Overrides(now)
	digest := Digest(overrides, now)
	f.mu.Lock()
	st := f.status
	st.Instances = append([]Instance(nil), st.Instances...)
	st.Error = f.connErr
	f.mu.Unlock()
	st.Connected = f.up.Load()
	if url := f.server.Load(); st.Connected && url != nil {
		st.Server = *url
	}
	st.Digest, st.Agrees = digest, true
	for i := range st.Instances {
		in := &st.Instances[i]
		if in.Self {
			in.Digest, in.Overrides, in.LastContact = digest, len(overrides), now
		}
		in.Stale = !in.Self && now.Sub(in.LastContact) > staleAfter
		in.Agrees = in.Digest == digest
		if !in.Stale && !in.Agrees {
			st.Agrees = false
		}
	}
	return st
}

// heartbeat recomputes this instance's digest and view of the peers, and
// readies a heartbeat for the peers when the bucket is open and read (the
// writer puts it). No call to NATS: run calls it every second and when
// the digest moves.
func (f *Fleet) heartbeat() {
	now := f.cfg.Now()
	overrides := f.cfg.Engine.Overrides(now)
	digest := Digest(overrides, now)
	f.mu.Lock()
	pending := len(f.pending)
	f.mu.Unlock()
	connected := f.up.Load()
	ready := connected && f.sess != nil && !f.sess.initial
	if ready && pending == 0 {
		f.syncedAt = now
	}
	lag := now.Sub(f.syncedAt).Seconds()
	hb := Heartbeat{Digest: digest, Overrides: len(overrides), LagSecs: lag, Pending: pending}
	if ready {
		f.beat = &Record{Kind: KindInstance, Instance: f.cfg.Instance, Time: now, Heartbeat: &hb}
	}

	self := Instance{Instance: f.cfg.Instance, Self: true, LastContact: now, Digest: digest, Overrides: len(overrides), SyncLagSeconds: lag, Agrees: true}
	insts := []Instance{self}
	agrees, seen, disagreeing, split := true, 1, 0, false
	for name, p := range f.peers {
		in := Instance{Instance: name, LastContact: p.contact, Digest: p.hb.Digest, Overrides: p.hb.Overrides,
			SyncLagSeconds: p.hb.LagSecs, Stale: now.Sub(p.contact) > staleAfter}
		in.Agrees = in.Digest == digest
		split = split || (now.Sub(p.contact) < forgetAfter && (in.Stale || !in.Agrees))
		if !in.Stale {
			seen++
			if !in.Agrees {
				agrees = false
				disagreeing++
			}
		}
		insts = append(insts, in)
	}
	switch {
	case !split:
		f.splitSince, f.rereadWait = time.Time{}, rereadAfter
	case f.splitSince.IsZero():
		f.splitSince = now
	}
	sort.Slice(insts[1:], func(i, j int) bool { return insts[1+i].Instance < insts[1+j].Instance })
	f.mu.Lock()
	f.status = Status{Enabled: true, Instance: f.cfg.Instance, Bucket: f.cfg.Bucket,
		Digest: digest, Agrees: agrees, SyncLagSeconds: lag, Unreplicated: pending, Instances: insts}
	f.mu.Unlock()
	f.m.lag.Set(lag)
	f.m.unreplicated.Set(float64(pending))
	f.m.seen.Set(float64(seen))
	f.m.disagreeing.Set(float64(disagreeing))
}

type metrics struct {
	connected      prometheus.Gauge
	lag            prometheus.Gauge
	unreplicated   prometheus.Gauge
	seen           prometheus.Gauge
	disagreeing    prometheus.Gauge
	applied        *prometheus.CounterVec
	published      *prometheus.CounterVec
	skipped        *prometheus.CounterVec
	signalsDropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdnsteer_fleet_connected",
			Help: "1 while connected to a NATS server of the fleet."}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdnsteer_fleet_sync_lag_seconds",
			Help: "Seconds since this instance was last in sync with the fleet's bucket (connected, bucket read, nothing waiting to go out); 0 while in sync."}),
		unreplicated: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdnsteer_fleet_unreplicated_changes",
			Help: "Overrides, ends and notes written here and not yet in the bucket."}),
		seen: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdnsteer_fleet_instances_seen",
			Help: "Instances (this one included) heard from within the last 10 s."}),
		disagreeing: prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdnsteer_fleet_disagreeing_instances",
			Help: "Instances seen whose override set differs from this one's."}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_fleet_applied_total",
			Help: "Changes from peers applied here, by kind (signals count signals)."}, []string{"kind"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_fleet_published_total",
			Help: "Changes written here put in the bucket, by kind (signals count signals)."}, []string{"kind"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_fleet_skipped_total",
			Help: "Bucket entries skipped: version (another format), corrupt, invalid, policy (does not fit this policy)."}, []string{"reason"}),
		signalsDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_fleet_signals_dropped_total",
			Help: "Pushed signals not sent to the peers: NATS away or the queue full."}),
	}
	for _, r := range []string{"version", "corrupt", "invalid", "policy"} {
		m.skipped.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.lag, m.unreplicated, m.seen, m.disagreeing, m.applied, m.published, m.skipped, m.signalsDropped)
	}
	return m
}

// describe says what a connection error means for the operator: refused
// credentials and TLS failures are named as such.
func describe(err error) string {
	msg := err.Error()
	low := strings.ToLower(msg)
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired), errors.Is(err, nats.ErrAuthRevoked),
		strings.Contains(low, "authorization violation"), strings.Contains(low, "authentication"):
		return "NATS refused this instance's credentials (user and password in the URL, or [fleet] credentials): " + msg
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &hne), errors.Is(err, nats.ErrSecureConnRequired),
		errors.Is(err, nats.ErrSecureConnWanted), strings.Contains(low, "tls"), strings.Contains(low, "x509"):
		return "TLS with NATS failed (tls:// URL and [fleet] ca): " + msg
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, nats.ErrJetStreamNotEnabled):
		return "the NATS server has no JetStream (start it with -js): " + msg
	}
	return msg
}
