package main

import (
	"context"
	"log/slog"
	"reflect"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/probe"
	"github.com/cdnsteer/cdnsteer/health/prom"
	"github.com/cdnsteer/cdnsteer/zones"
)

// telemetry keeps the signal sources and the GeoIP database in step with
// the policy in force: probes per CDN, the Prometheus source, the
// database watcher.
type telemetry struct {
	ctx     context.Context
	log     *slog.Logger
	engine  *health.Engine
	handler *dnsserver.Handler
	probes  *probe.Runner

	mu       sync.Mutex
	promCfg  *prom.Config
	promStop context.CancelFunc
	promReg  *swappableGatherer
	geoPath  string
	geoWatch *geo.Watcher
	geoSeen  bool // follow has run once: the geo state is known
	asnPath  string
	asnWatch *geo.Watcher
	// geoErrors counts database loads that failed (the previous database
	// kept serving), by database: country or asn.
	geoErrors *prometheus.CounterVec
	// geoStatus follows the databases configured and loaded: their
	// metrics, and /readyz's reason while one is not loaded.
	geoStatus *geo.Status
}

func newTelemetry(ctx context.Context, reg *prometheus.Registry, engine *health.Engine, h *dnsserver.Handler, log *slog.Logger) *telemetry {
	t := &telemetry{ctx: ctx, log: log, engine: engine, handler: h, promReg: &swappableGatherer{}, geoStatus: geo.NewStatus()}
	t.probes = probe.NewRunner(reg, func(s health.Signal) { engine.Push(s) }, log)
	t.geoErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cdnsteer_geo_database_load_errors_total",
		Help: "GeoIP and ASN database loads that failed; the previous database keeps serving.",
	}, []string{"database"})
	t.geoErrors.WithLabelValues("country")
	t.geoErrors.WithLabelValues("asn")
	if reg != nil {
		reg.MustRegister(t.geoErrors, t.geoStatus)
	}
	return t
}

// follow adapts every source to snap; unchanged sources keep running.
func (t *telemetry) follow(snap *zones.Snapshot) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var probes []probe.Config
	for _, c := range snap.CDNs {
		if c.Probe != nil {
			probes = append(probes, *c.Probe)
		}
	}
	t.probes.Update(probes)

	if !reflect.DeepEqual(snap.Prometheus, t.promCfg) {
		if t.promStop != nil {
			t.promStop()
			t.promStop = nil
		}
		// The stopped source's series go with it, whether or not a new
		// one starts.
		t.promReg.set(nil)
		t.promCfg = snap.Prometheus
		if p := snap.Prometheus; p != nil {
			reg := prometheus.NewRegistry()
			src, err := prom.New(*p, reg, func(s health.Signal) { t.engine.Push(s) }, t.log)
			if err != nil {
				t.log.Error("prometheus source not started", "err", err)
			} else {
				ctx, cancel := context.WithCancel(t.ctx)
				t.promStop = cancel
				t.promReg.set(reg)
				go src.Run(ctx)
				t.log.Info("prometheus source started", "url", p.URL, "interval", p.Interval)
			}
		}
	}

	t.followASN(snap)
	if !t.geoSeen || snap.Geo.Database != t.geoPath {
		t.geoSeen = true
		if t.geoWatch != nil {
			t.geoWatch.Close()
			t.geoWatch = nil
		}
		t.geoPath = snap.Geo.Database
		t.geoStatus.Configure(geo.KindCountry, t.geoPath)
		if t.geoPath == "" {
			t.handler.SetGeoDB(nil)
			t.log.Warn("no GeoIP database configured: regions come from [[geo.network]] and the default region only")
		} else {
			path := t.geoPath
			w, err := geo.NewWatcher(path, func(db *geo.DB) {
				t.handler.SetGeoDB(db)
				info := db.Info()
				t.geoStatus.Loaded(geo.KindCountry, info)
				t.log.Info("GeoIP database loaded", "file", path, "type", info.Type, "networks", info.Networks, "built", info.BuildTime)
			}, func(err error) {
				t.geoErrors.WithLabelValues("country").Inc()
				t.geoStatus.Failed(geo.KindCountry, err)
				t.log.Error("GeoIP database not loaded; the previous one (if any) keeps serving", "file", path, "err", err)
			})
			if err != nil {
				t.geoStatus.Failed(geo.KindCountry, err)
				t.log.Error("GeoIP watcher not started", "file", path, "err", err)
			}
			t.geoWatch = w
		}
	}
}

// followASN keeps the ASN database in step with [geo] asn_database.
func (t *telemetry) followASN(snap *zones.Snapshot) {
	if snap.Geo.ASNDatabase == t.asnPath && (t.asnWatch != nil || t.asnPath == "") {
		return
	}
	if t.asnWatch != nil {
		t.asnWatch.Close()
		t.asnWatch = nil
	}
	t.asnPath = snap.Geo.ASNDatabase
	t.geoStatus.Configure(geo.KindASN, t.asnPath)
	if t.asnPath == "" {
		t.handler.SetASNDB(nil)
		return
	}
	path := t.asnPath
	w, err := geo.NewASNWatcher(path, func(a *geo.ASNDB) {
		t.handler.SetASNDB(a)
		info := a.Info()
		t.geoStatus.Loaded(geo.KindASN, info)
		t.log.Info("ASN database loaded", "file", path, "type", info.Type, "networks", info.Networks, "built", info.BuildTime)
	}, func(err error) {
		t.geoErrors.WithLabelValues("asn").Inc()
		t.geoStatus.Failed(geo.KindASN, err)
		t.log.Error("ASN database not loaded; the previous one (if any) keeps serving", "file", path, "err", err)
	})
	if err != nil {
		t.geoStatus.Failed(geo.KindASN, err)
		t.log.Error("ASN watcher not started", "file", path, "err", err)
	}
	t.asnWatch = w
}

func (t *telemetry) stop() {
	t.probes.Stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.promStop != nil {
		t.promStop()
	}
	if t.geoWatch != nil {
		t.geoWatch.Close()
	}
	if t.asnWatch != nil {
		t.asnWatch.Close()
	}
}

// swappableGatherer lets /metrics include the series of a source that is
// replaced on reload, without registering a second copy of its metrics.
type swappableGatherer struct {
	mu sync.Mutex
	g  prometheus.Gatherer
}

func (s *swappableGatherer) set(g prometheus.Gatherer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.g = g
}

// Gather implements prometheus.Gatherer.
func (s *swappableGatherer) Gather() ([]*dto.MetricFamily, error) {
	s.mu.Lock()
	g := s.g
	s.mu.Unlock()
	if g == nil {
		return nil, nil
	}
	return g.Gather()
}
