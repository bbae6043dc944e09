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
	// kick asks for an evaluation now: an override from a peer reaches
	// the answers at once rather than at the next tick.
	kick   chan struct{}
	onSnap func(*zones.Snapshot) // telemetry follows the new policy
}

func (p *publisher) run(ctx context.Context, snap *zones.Snapshot) {
	p.handler.Install(snap, p.engine.Evaluate(time.Now()))
	cfg := snap.Health()
	tick := time.NewTicker(cfg.EvalInterval())
	defer tick.Stop()
	edge := time.NewTimer(p.untilEdge())
	defer edge.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case next := <-p.reloads:
			cfg := next.Health()
			p.engine.SetConfig(cfg, time.Now())
			p.handler.Install(next, p.engine.Evaluate(time.Now()))
			tick.Reset(cfg.EvalInterval())
			edge.Reset(p.untilEdge())
			p.onSnap(next)
		case now := <-tick.C:
			p.handler.SetLive(p.engine.Evaluate(now))
		case <-p.kick:
			p.handler.SetLive(p.engine.Evaluate(time.Now()))
		case now := <-edge.C:
			p.handler.SetLive(p.engine.Evaluate(now))
			edge.Reset(p.untilEdge())
		}
	}
}

// maxEdgeWait bounds the wait for a schedule's edge, so that a step of
// the wall clock (the edges are wall-clock times) is caught up within it.
// Every evaluation runs the schedules too: the timer makes a window begin
// and end on the second rather than an evaluation interval late.
const maxEdgeWait = time.Hour

// untilEdge is how long until the next start or end of a schedule's
// window.
func (p *publisher) untilEdge() time.Duration {
	next := p.engine.NextScheduleEdge(time.Now())
	if next.IsZero() {
		return maxEdgeWait
	}
	return min(max(time.Until(next), 0), maxEdgeWait)
}
