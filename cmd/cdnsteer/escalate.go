package main

import (
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/escalation"
	"github.com/cdnsteer/cdnsteer/zones"
)

// newEscalations is the escalation manager of snap: always there, so that
// the live view's Escalate button records and shows an escalation even
// where no Alertmanager is configured (the demo, a rehearsal).
func newEscalations(snap *zones.Snapshot, journal health.Journal, reg prometheus.Registerer, log *slog.Logger) *escalation.Manager {
	generator := ""
	if snap.Server.HTTP != "" {
		generator = "http://" + snap.Server.HTTP + "/"
	}
	return escalation.New(escalationConfig(snap), escalation.Options{Journal: journal, Instance: instanceName(snap),
		GeneratorURL: generator, Registerer: reg, Logger: log})
}

// escalationConfig is snap's [escalation], or none.
func escalationConfig(snap *zones.Snapshot) escalation.Config {
	if snap.Escalation == nil {
		return escalation.Config{}
	}
	return *snap.Escalation
}

// instanceName is the instance label of this server's alerts: its
// chaos_id, which tells ns1 from ns2 already, else the host's name.
func instanceName(snap *zones.Snapshot) string {
	if snap.Server.ChaosID != "" {
		return snap.Server.ChaosID
	}
	h, _ := os.Hostname()
	return h
}
