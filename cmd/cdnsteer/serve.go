package main

import (
	"context"
	"flag"
	"fmt"
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
	"github.com/cdnsteer/cdnsteer/health/escalation"
	"github.com/cdnsteer/cdnsteer/steering"
	"github.com/cdnsteer/cdnsteer/zones"
)

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "policy file")
	logFormat := fs.String("log-format", "logfmt", "log format: logfmt or json")
	logLevel := fs.String("log-level", "info", "lowest level logged: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "serve:", err)
		return 2
	}
	snap, code := loadPolicy("serve", *config, stderr)
	if snap == nil {
		return code
	}
	log.Info("policy loaded", "file", snap.File, "sha256", snap.HashHex())
	sockets, err := takeSockets()
	if err != nil {
		log.Error("cdnsteer not started", "err", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runProcess(ctx, snap, log, nil, &process{sockets: sockets, upgrades: true}); err != nil {
		log.Error("cdnsteer stopped", "err", err)
		return 1
	}
	return 0
}

// process is what a server running as a process of its own adds: the
// sockets it was handed, systemd's notifications, and upgrades on
// SIGUSR2. Servers run inside a test or the demo have none of it.
type process struct {
	sockets *handedSockets
	// upgrades makes SIGUSR2 hand the sockets to a new process.
	upgrades bool
}

// upgraded says that the sockets come from the process this one
// replaces, which holds the HTTP and steering ports until it stops.
func (p *process) upgraded() bool { return p != nil && p.sockets != nil && p.sockets.parent != 0 }

func (p *process) files() []*os.File {
	if p == nil || p.sockets == nil {
		return nil
	}
	return p.sockets.files
}

// started tells a caller (the demo, tests) where the servers listen.
type started struct {
	DNS  []string
	HTTP string
	// Steering is the content steering listener's address, if any.
	Steering string
}

// runServer serves snap until ctx ends: DNS, the health engine and its
// telemetry, the HTTP endpoint; it reloads the policy on SIGHUP and when
// its file changes. adminOpts adjust the HTTP endpoint's configuration
// (the demo adds its simulated edges).
func runServer(ctx context.Context, snap *zones.Snapshot, log *slog.Logger, up func(started), adminOpts ...func(*admin.Config)) error {
	return runProcess(ctx, snap, log, up, nil, adminOpts...)
}

// runProcess is runServer with proc's sockets, notifications and upgrades.
func runProcess(ctx context.Context, snap *zones.Snapshot, log *slog.Logger, up func(started), proc *process, adminOpts ...func(*admin.Config)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := dnsserver.NewHandler(snap, dnsserver.NewMetrics(reg))
	tapper, stopTap := startTap(snap, handler, reg, log)
	defer stopTap()
	// The policy the answers come from, reloads included.
	servedPolicy := func() *zones.Snapshot { return handler.State().Snap }
	reg.MustRegister(newInfoCollector(servedPolicy))

	file, closeJournal := openJournal(snap, reg, log)
	defer closeJournal()
	// Every decision goes to the log through the feed, which keeps the
	// last ones for the live view's change feed.
	feed := admin.NewDecisionFeed(file, admin.DefaultFeedSize)
	var journal health.Journal = feed
	esc := newEscalations(snap, journal, reg, log)
	engine := health.NewEngine(snap.Health(), esc.Watch(journal))
	defer recordSignals(engine, snap, reg, log)()
	notes, ended := restoreState(engine, esc, feed, snap.Server.DecisionLog, log)
	escDone := esc.Start(ctx, engine)
	reg.MustRegister(health.NewCollector(engine))
	reg.MustRegister(health.NewSignalAgeCollector(engine))

	tel := newTelemetry(ctx, reg, engine, handler, log)
	defer tel.stop()
	tel.follow(snap)

	annotations := admin.NewAnnotations(notes, journal)
	kick := make(chan struct{}, 1)
	replicator, fleetDone := startFleet(ctx, snap, engine, annotations, ended, func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}, reg, log)

	var ready atomic.Bool
	httpCfg := withDoor(admin.Config{
		Gatherer:    prometheus.Gatherers{reg, tel.promReg},
		Ready:       ready.Load,
		NotReady:    tel.geoStatus.NotReady,
		Logger:      log,
		Engine:      engine,
		Annotations: annotations,
		Explain:     explainer(handler, engine),
		Escalations: esc,
		Fleet:       replicator,
		Decisions:   feed,
		PolicyHash:  func() string { return servedPolicy().HashHex() },
	}, snap.Server)
	var httpSrv *admin.Server
	var err error
	if !proc.upgraded() {
		if httpSrv, err = startHTTP(httpCfg, adminOpts, log); err != nil {
			return err
		}
	}
	// The first query after a restart is answered with the restored
	// overrides, plans and schedule windows: the handler's initial state
	// knows only the policy's baseline, and the publisher starts later.
	handler.Install(snap, engine.Evaluate(time.Now()))
	dnsSrv, err := dnsserver.Listen(snap.Server.DNS, handler, dnsserver.Options{Inherited: proc.files()})
	if err != nil {
		if httpSrv != nil {
			httpSrv.Shutdown(context.Background())
		}
		return err
	}
	dnsSrv.Serve()
	var steerSrv *steering.Server
	if proc.upgraded() {
		// DNS is served here: the process being replaced stops reading
		// and frees the HTTP and steering ports, taken as soon as free.
		if err := proc.sockets.serving(); err != nil {
			log.Warn("upgrade: could not tell the previous process", "err", err)
		}
		httpSrv, err = retryBind(ctx, func() (*admin.Server, error) { return startHTTP(httpCfg, adminOpts, log) })
		if err == nil {
			steerSrv, err = retryBind(ctx, func() (*steering.Server, error) { return startSteering(snap, handler, engine, reg, log) })
		}
	} else {
		steerSrv, err = startSteering(snap, handler, engine, reg, log)
	}
	if err != nil {
		dnsSrv.Shutdown(context.Background())
		if httpSrv != nil {
			httpSrv.Shutdown(context.Background())
		}
		return err
	}

	pub := &publisher{engine: engine, handler: handler, reloads: make(chan *zones.Snapshot, 1), kick: kick, onSnap: func(next *zones.Snapshot) {
		tel.follow(next)
		tapper.Follow(next.Dnstap)
		esc.SetConfig(escalationConfig(next))
	}}
	pubDone := make(chan struct{})
	go func() { pub.run(ctx, snap); close(pubDone) }()

	ready.Store(true)
	announce(snap, dnsSrv, httpSrv, steerSrv, log, up)
	logSockets(dnsSrv, log)
	if proc != nil && !proc.upgraded() {
		// After an upgrade the previous process has named this one
		// the service's main process; it is running already.
		if err := notify("READY=1"); err != nil {
			log.Warn("systemd notification", "err", err)
		}
	}
	reloadDone, stopHUP := followPolicy(ctx, snap, pub, httpSrv, log, reg)
	defer stopHUP()
	if proc != nil && proc.upgrades {
		defer upgradeOnSignal(ctx, cancel, dnsSrv, log)()
	}

	<-ctx.Done()
	stopping := time.Now()
	log.Info("shutting down: answering the queries read, reading no more")
	if proc != nil {
		notify("STOPPING=1")
	}
	ready.Store(false)
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	dnsErr := dnsSrv.Shutdown(shutCtx)
	if steerSrv != nil {
		steerSrv.Shutdown(shutCtx)
	}
	if httpSrv != nil {
		httpSrv.Shutdown(shutCtx)
	}
	<-pubDone
	<-escDone
	<-fleetDone
	if err := <-reloadDone; err != nil {
		log.Warn("policy watcher", "err", err)
	}
	log.Info("stopped", "after", time.Since(stopping).Round(time.Microsecond).String())
	return dnsErr
}

// restoreState brings the engine, the escalations and the change feed
// back to where the decision log at path left them and returns the
// annotations it held and the overrides it ended (for the fleet's
// tombstones). The log is read a line at a time, keeping what a restore
// needs (health.ReadRestoreLog). A log that cannot be read costs the
// previous state, not the start.
func restoreState(engine *health.Engine, esc *escalation.Manager, feed *admin.DecisionFeed, path string, log *slog.Logger) ([]health.Annotation, []health.Decision) {
	if path == "" {
		return nil, nil
	}
	start := time.Now()
	rl, err := health.ReadRestoreLog(path, admin.DefaultFeedSize, start)
	if err != nil {
		log.Error("decision log unreadable: starting without the previous state", "err", err)
	}
	if rl.Skipped > 0 {
		log.Warn("decision log lines skipped (partial or corrupt)", "lines", rl.Skipped)
	}
	if rl.Lines == 0 {
		return nil, nil
	}
	notes := engine.RestoreLog(rl, time.Now())
	esc.Restore(rl.Decisions)
	feed.Seed(rl.Recent)
	var ended []health.Decision
	for _, d := range rl.Decisions {
		if d.Kind == health.DecisionOverrideEnd {
			ended = append(ended, d)
		}
	}
	log.Info("state restored from the decision log", "entries", rl.Lines, "kept", len(rl.Decisions), "annotations", len(notes),
		"overrides", len(engine.Overrides(time.Now())), "took", time.Since(start).Round(time.Millisecond).String())
	return notes, ended
}

// startHTTP opens and serves the HTTP endpoint when the policy asks for
// one (cfg.Addr); it returns nil otherwise.
func startHTTP(cfg admin.Config, opts []func(*admin.Config), log *slog.Logger) (*admin.Server, error) {
	if cfg.Addr == "" {
		return nil, nil
	}
	for _, opt := range opts {
		opt(&cfg)
	}
	srv, err := admin.Listen(cfg)
	if err != nil {
		return nil, err
	}
	srv.Serve()
	log.Info("http endpoint up", "addr", srv.Addr().String(), "tls", srv.TLS())
	return srv, nil
}

// announce logs where the server listens and the policy's warnings, and
// tells up (when set) the addresses.
func announce(snap *zones.Snapshot, dnsSrv *dnsserver.Server, httpSrv *admin.Server, steerSrv *steering.Server, log *slog.Logger, up func(started)) {
	var addrs []string
	for _, a := range dnsSrv.Addrs() {
		addrs = append(addrs, a.String())
		log.Info("dns listening", "addr", a.String(), "proto", "udp+tcp")
	}
	for _, w := range snap.Warnings {
		log.Warn("policy warning", "warning", w)
	}
	if up == nil {
		return
	}
	st := started{DNS: addrs}
	if httpSrv != nil {
		st.HTTP = httpSrv.Addr().String()
	}
	if steerSrv != nil {
		st.Steering = steerSrv.Addr().String()
	}
	up(st)
}

// followPolicy reloads the policy when its file changes or on SIGHUP and
// hands each new snapshot to the publisher, until ctx ends. done yields
// the watcher's error once it has stopped; stopHUP hands SIGHUP back,
// which the caller does only when it returns, so that a SIGHUP during
// shutdown is ignored rather than fatal.
func followPolicy(ctx context.Context, snap *zones.Snapshot, pub *publisher, httpSrv *admin.Server, log *slog.Logger, reg prometheus.Registerer) (done <-chan error, stopHUP func()) {
	running := snap
	reloader := zones.NewReloader(snap, func(next *zones.Snapshot) {
		if !slices.Equal(sortedAddrs(next), sortedAddrs(running)) || !sameDoor(next.Server, running.Server) {
			log.Warn("server.dns, server.http and its keys (tokens, TLS, hosts, open reads) take effect on restart; the listeners are unchanged")
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
	return reloadDone, func() { signal.Stop(hup) }
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
	stopUSR1 := reopenOnUSR1(log, "decision log", j.Reopen)
	return j, func() {
		stopUSR1()
		j.Close()
	}
}

// recordSignals has the engine record every signal it takes in to the
// policy's signal log, if it names one, and returns what closes the log.
// Like the decision log, one that cannot be opened is reported and done
// without.
func recordSignals(engine *health.Engine, snap *zones.Snapshot, reg prometheus.Registerer, log *slog.Logger) func() {
	cfg := snap.Server.SignalLog
	if cfg.Path == "" {
		return func() {}
	}
	l, err := health.OpenSignalLog(cfg, nil, reg, log)
	if err != nil {
		log.Error("signal log unavailable: signals will not be recorded", "err", err)
		return func() {}
	}
	engine.SetSignalLog(l)
	return func() { l.Close() }
}

func sortedAddrs(s *zones.Snapshot) []string {
	out := make([]string, len(s.Server.DNS))
	for i, a := range s.Server.DNS {
		out[i] = a.String()
	}
	sort.Strings(out)
	return out
}
