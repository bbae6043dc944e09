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
	"github.com/cdnsteer/cdnsteer/zones"
)

func serve(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "policy file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *config == "" {
		fmt.Fprintln(stderr, "cdnsteer serve: -config FILE is required")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	snap, err := zones.Load(*config)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := runServer(ctx, snap, log); err != nil {
		log.Error("cdnsteer stopped", "err", err)
		return 1
	}
	return 0
}

// runServer serves snap until ctx ends, reloading the policy on SIGHUP and
// when its file changes.
func runServer(ctx context.Context, snap *zones.Snapshot, log *slog.Logger) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	handler := dnsserver.NewHandler(snap, dnsserver.NewMetrics(reg))

	var ready atomic.Bool
	var httpSrv *admin.Server
	if snap.Server.HTTP != "" {
		var err error
		httpSrv, err = admin.Listen(admin.Config{Addr: snap.Server.HTTP, Gatherer: reg, Ready: ready.Load, Logger: log})
		if err != nil {
			return err
		}
		httpSrv.Serve()
		log.Info("http endpoint up", "addr", httpSrv.Addr().String())
	}
	dnsSrv, err := dnsserver.Listen(snap.Server.DNS, handler, dnsserver.Options{Logger: log})
	if err != nil {
		if httpSrv != nil {
			httpSrv.Shutdown(context.Background())
		}
		return err
	}
	dnsSrv.Serve()
	ready.Store(true)
	for _, a := range dnsSrv.Addrs() {
		log.Info("dns listening", "addr", a.String(), "proto", "udp+tcp")
	}
	for _, w := range snap.Warnings {
		log.Warn("policy warning", "warning", w)
	}

	running := snap
	reloader := zones.NewReloader(snap, func(next *zones.Snapshot) {
		if !slices.Equal(sortedAddrs(next), sortedAddrs(running)) || next.Server.HTTP != running.Server.HTTP {
			log.Warn("server.dns and server.http changes take effect on restart; the listeners are unchanged")
		}
		handler.Install(next, nil)
		running = next
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
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dnsErr := dnsSrv.Shutdown(shutCtx)
	if httpSrv != nil {
		httpSrv.Shutdown(shutCtx)
	}
	if err := <-reloadDone; err != nil {
		log.Warn("policy watcher", "err", err)
	}
	return dnsErr
}

func sortedAddrs(s *zones.Snapshot) []string {
	out := make([]string, len(s.Server.DNS))
	for i, a := range s.Server.DNS {
		out[i] = a.String()
	}
	sort.Strings(out)
	return out
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
