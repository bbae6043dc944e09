package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/admin"
	"github.com/cdnsteer/cdnsteer/fleet"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// startFleet joins the fleet the policy names, if any, and returns what
// the HTTP endpoint hands writes to (nil standing alone) and a channel
// closed once the fleet has stopped. ended are the override ends the
// decision log held (restoreState). A fleet that cannot start (a missing
// credentials file, say) is reported and the instance stands alone: it
// answers either way.
func startFleet(ctx context.Context, snap *zones.Snapshot, engine *health.Engine, notes *admin.Annotations,
	ended []health.Decision, changed func(), reg prometheus.Registerer, log *slog.Logger) (admin.Replicator, <-chan struct{}) {
	stopped := make(chan struct{})
	fc := snap.Fleet
	if fc == nil {
		close(stopped)
		return nil, stopped
	}
	f, err := fleet.Start(ctx, fleet.Config{NATS: fc.NATS, Bucket: fc.Bucket, Instance: fc.Instance,
		Credentials: fc.Credentials, CA: fc.CA, Engine: engine, Notes: notes, Restored: ended,
		Changed: changed, Logger: log, Metrics: reg, Now: time.Now})
	if err != nil {
		log.Error("fleet unavailable: this instance stands alone", "err", err)
		close(stopped)
		return nil, stopped
	}
	log.Info("fleet", "instance", fc.Instance, "bucket", fc.Bucket, "nats", fc.NATS)
	return f, f.Done()
}
