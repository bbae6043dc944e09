package main

import (
	"context"
	"runtime/debug"
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
	go settleHeap()
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
			go settleHeap()
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

// settleHeap collects the garbage a policy's load or reload left and
// hands the memory back. Go's collector lets the heap grow to twice what
// it found live at its last collection: one that ran mid-load, with the
// decode, the compiled policy, the engine's new index and the old one
// alive at once, set a ceiling of twice that until the next (peak RSS
// 638 MiB at 1,000 steered names, the running server's live heap being
// 230 MB). Collected once the new policy is installed, the ceiling is
// set by what the server keeps. Off the publisher's goroutine: answers
// and evaluations do not wait for it.
func settleHeap() { debug.FreeOSMemory() }

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
