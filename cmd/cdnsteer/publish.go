package main

import (
	"context"
	"time"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// publisher is the one goroutine that moves the health engine forward and
// hands its weights to the DNS path. Reloads go through it too, so that a
// snapshot and the weights computed for it are always installed together.
type publisher struct {
	engine  *health.Engine
	handler *dnsserver.Handler
	reloads chan *zones.Snapshot
	onSnap  func(*zones.Snapshot) // telemetry follows the new policy
}

// evalInterval is the shortest evaluation interval of any policy.
func evalInterval(s *zones.Snapshot) time.Duration {
	d := health.DefaultParams().EvalInterval
	for i, p := range s.Policies {
		if i == 0 || p.Params.EvalInterval < d {
			d = p.Params.EvalInterval
		}
	}
	return d
}

func (p *publisher) run(ctx context.Context, snap *zones.Snapshot) {
	p.handler.Install(snap, p.engine.Evaluate(time.Now()))
	tick := time.NewTicker(evalInterval(snap))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case next := <-p.reloads:
			p.engine.SetConfig(next.Health(), time.Now())
			p.handler.Install(next, p.engine.Evaluate(time.Now()))
			tick.Reset(evalInterval(next))
			p.onSnap(next)
		case now := <-tick.C:
			p.handler.SetLive(p.engine.Evaluate(now))
		}
	}
}
