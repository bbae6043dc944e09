package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/steering"
	"github.com/cdnsteer/cdnsteer/zones"
)

// startSteering opens the content steering listener when the policy sets
// [steering] listen. It answers from the DNS handler's state, so reloads,
// live weights and GeoIP swaps reach players and resolvers at once. The
// listener's address and certificate are read at start only.
func startSteering(snap *zones.Snapshot, h *dnsserver.Handler, reg prometheus.Registerer, log *slog.Logger) (*steering.Server, error) {
	if snap.Steering == nil {
		return nil, nil
	}
	src := func() (*zones.Snapshot, *health.Table, *geo.DB) {
		st := h.State()
		return st.Snap, st.Live, st.DB
	}
	srv, err := steering.Listen(snap.Steering, steering.NewHandler(src, steering.NewMetrics(reg)), log)
	if err != nil {
		return nil, err
	}
	log.Info("content steering listening", "addr", srv.Addr().String(), "tls", snap.Steering.TLSCert != "")
	return srv, nil
}
