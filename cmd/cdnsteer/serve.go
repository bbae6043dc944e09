package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sort"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cdnsteer/cdnsteer/admin"
	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "policy file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	snap, code := loadPolicy("serve", *config, stderr)
	if snap == nil {
		return code
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runServer(ctx, snap, log, nil); err != nil {
		log.Error("cdnsteer stopped", "err", err)
		return 1
	}
	return 0
}

// started tells a caller (the demo, tests) where the servers listen.
type started struct {
	DNS  []string
	HTTP string
}

// runServer serves snap until ctx ends: DNS, the health engine and its
// telemetry, the HTTP endpoint; it reloads the policy on SIGHUP and when
// its file changes. adminOpts adjust the HTTP endpoint's configuration
// (the demo adds its simulated edges).
func runServer(ctx context.Context, snap *zones.Snapshot, log *slog.Logger, up func(started), adminOpts ...func(*admin.Config)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := dnsserver.NewHandler(snap, dnsserver.NewMetrics(reg))

	journal, closeJournal := openJournal(snap, reg, log)
	defer closeJournal()
	engine := health.NewEngine(snap.Health(), journal)
	var notes []health.Annotation
	if snap.Server.DecisionLog != "" {
		ds, skipped, err := health.ReadJournal(snap.Server.DecisionLog)
		if err != nil {
			log.Error("decision log unreadable: starting without the previous state", "err", err)
		}
		if skipped > 0 {
			log.Warn("decision log lines skipped (partial or corrupt)", "lines", skipped)
		}
		if len(ds) > 0 {
			notes = engine.Restore(ds, time.Now())
			log.Info("state restored from the decision log", "entries", len(ds), "annotations", len(notes), "overrides", len(engine.Overrides(time.Now())))
		}
	}
	reg.MustRegister(health.NewCollector(engine))

	tel := newTelemetry(ctx, reg, engine, handler, log)
	defer tel.stop()
	tel.follow(snap)

	var ready atomic.Bool
	var httpSrv *admin.Server
	if snap.Server.HTTP != "" {
		acfg := admin.Config{
			Addr:        snap.Server.HTTP,
			Gatherer:    prometheus.Gatherers{reg, tel.promReg},
			Ready:       ready.Load,
			Logger:      log,
			Engine:      engine,
			TokenFile:   snap.Server.AdminTokenFile,
			Annotations: admin.NewAnnotations(notes, journal),
			Explain:     explainer(handler, engine),
		}
		for _, opt := range adminOpts {
			opt(&acfg)
		}
		var err error
		httpSrv, err = admin.Listen(acfg)
		if err != nil {
			return err
		}
		httpSrv.Serve()
		log.Info("http endpoint up", "addr", httpSrv.Addr().String())
	}
	dnsSrv, err := dnsserver.Listen(snap.Server.DNS, handler, dnsserver.Options{})
	if err != nil {
		if httpSrv != nil {
			httpSrv.Shutdown(context.Background())
		}
		return err
	}
	dnsSrv.Serve()

	pub := &publisher{engine: engine, handler: handler, reloads: make(chan *zones.Snapshot, 1), onSnap: tel.follow}
	pubDone := make(chan struct{})
	go func() { pub.run(ctx, snap); close(pubDone) }()

	ready.Store(true)
	var addrs []string
	for _, a := range dnsSrv.Addrs() {
		addrs = append(addrs, a.String())
		log.Info("dns listening", "addr", a.String(), "proto", "udp+tcp")
	}
	for _, w := range snap.Warnings {
		log.Warn("policy warning", "warning", w)
	}
	if up != nil {
		st := started{DNS: addrs}
		if httpSrv != nil {
			st.HTTP = httpSrv.Addr().String()
		}
		up(st)
	}

	running := snap
	reloader := zones.NewReloader(snap, func(next *zones.Snapshot) {
		if !slices.Equal(sortedAddrs(next), sortedAddrs(running)) || next.Server.HTTP != running.Server.HTTP {
			log.Warn("server.dns and server.http changes take effect on restart; the listeners are unchanged")
		}
		running = next
		// The publisher stops with ctx; a reload finishing during
		// shutdown must not wait for it, or the process never exits.
		select {
		case pub.reloads <- next:
		case <-ctx.Done():
			return
		}
		if httpSrv != nil {
			httpSrv.ReloadToken()
		}
	}, log, reg)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				reloader.Trigger("SIGHUP")
			case <-ctx.Done():
				return
			}
		}
	}()
	reloadDone := make(chan error, 1)
	go func() { reloadDone <- reloader.Run(ctx) }()

	<-ctx.Done()
	log.Info("shutting down: answering queries in flight")
	ready.Store(false)
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	dnsErr := dnsSrv.Shutdown(shutCtx)
	if httpSrv != nil {
		httpSrv.Shutdown(shutCtx)
	}
	<-pubDone
	if err := <-reloadDone; err != nil {
		log.Warn("policy watcher", "err", err)
	}
	return dnsErr
}

// openJournal opens the decision log. A log that cannot be opened is
// reported and done without: answering matters more than the record.
func openJournal(snap *zones.Snapshot, reg prometheus.Registerer, log *slog.Logger) (health.Journal, func()) {
	if snap.Server.DecisionLog == "" {
		return nil, func() {}
	}
	j, err := health.OpenJournal(snap.Server.DecisionLog, reg, log)
	if err != nil {
		log.Error("decision log unavailable: decisions will not be recorded", "err", err)
		return nil, func() {}
	}
	return j, func() { j.Close() }
}

func sortedAddrs(s *zones.Snapshot) []string {
	out := make([]string, len(s.Server.DNS))
	for i, a := range s.Server.DNS {
		out[i] = a.String()
	}
	sort.Strings(out)
	return out
}
