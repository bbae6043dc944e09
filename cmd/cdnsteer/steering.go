package main

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/qoe"
	"github.com/cdnsteer/cdnsteer/steering"
	"github.com/cdnsteer/cdnsteer/zones"
)

// qoeInterval is how often the players' CMCD windows reach the engine.
const qoeInterval = time.Second

// startSteering opens the content steering listener when the policy sets
// [steering] listen. It answers from the DNS handler's state, so reloads,
// live weights and GeoIP and ASN swaps reach players and resolvers at
// once, and a subnet gets the same region from both. The players' CMCD
// reports ([qoe]: POST /qoe/cmcd and the CMCD= query of steering
// requests) go to a collector whose windows are pushed to engine every
// second until the server's Shutdown. The listener's address and
// certificate are read at start only.
func startSteering(snap *zones.Snapshot, h *dnsserver.Handler, engine *health.Engine, reg prometheus.Registerer, log *slog.Logger) (*steering.Server, error) {
	if snap.Steering == nil {
		return nil, nil
	}
	src := func() steering.State {
		st := h.State()
		subnets, asn := st.Subnets()
		return steering.State{Snap: st.Snap, Live: st.Live, DB: st.DB, ASN: asn, Subnets: subnets}
	}
	sh := steering.NewHandler(src, steering.NewMetrics(reg))
	sh.CollectQoE(qoe.NewCollector(qoe.NewMetrics(reg)))
	srv, err := steering.Listen(snap.Steering, sh, log)
	if err != nil {
		return nil, err
	}
	srv.RunQoE(qoeInterval, engine.Push)
	log.Info("content steering listening", "addr", srv.Addr().String(), "tls", snap.Steering.TLSCert != "", "cmcd", "/qoe/cmcd")
	return srv, nil
}
