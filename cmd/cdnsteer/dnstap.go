package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/zones"
)

// startTap gives the handler the dnstap output of snap's [dnstap] (none
// without one); the tapper follows reloads and reopens its file on
// SIGUSR1. stop ends the stream, after the DNS listeners have stopped.
func startTap(snap *zones.Snapshot, h *dnsserver.Handler, reg prometheus.Registerer, log *slog.Logger) (tp *dnsserver.Tapper, stop func()) {
	tp = dnsserver.NewTapper(h, dnsserver.NewTapMetrics(reg), log, "cdnsteer "+Version)
	tp.Follow(snap.Dnstap)
	stopUSR1 := reopenOnUSR1(log, "dnstap", func() error { tp.Reopen(); return nil })
	return tp, func() {
		stopUSR1()
		tp.Close()
	}
}
