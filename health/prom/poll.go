package prom

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/cdnsteer/cdnsteer/health"
)

// Run polls every Interval until ctx ends. A round that Poll ran less than
// an Interval ago counts as the first, so that a first Poll at start is
// not repeated at once.
func (s *Source) Run(ctx context.Context) {
	s.mu.Lock()
	last := s.lastRound
	s.mu.Unlock()
	t := time.NewTimer(s.cfg.Interval - time.Since(last))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		// Poll counts and logs its errors itself; the next round is the retry.
		_ = s.Poll(ctx)
		// Pace from the round's start, so a slow Prometheus does not
		// stretch the interval; a round never overlaps the next.
		t.Reset(s.cfg.Interval - time.Since(start))
	}
}

// outcome is what one query of a round returned.
type outcome struct {
	pts   []point
	drops map[string]int
	err   error
}

// Poll runs one round: every query at once, all evaluated at the same
// instant and bounded by Timeout. It hands the sink the signals of the
// queries that succeeded and returns the errors of those that failed; a
// failed query emits nothing, so its signals go stale rather than zero.
// The sink is called from Poll's goroutine and must not call Poll.
func (s *Source) Poll(ctx context.Context) error {
	s.round.Lock()
	defer s.round.Unlock()
	at := time.Now()
	s.mu.Lock()
	s.lastRound = at
	s.mu.Unlock()

	qctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	outs := make([]outcome, len(s.queries))
	var wg sync.WaitGroup
	for i, q := range s.queries {
		wg.Go(func() { outs[i] = s.query(qctx, q, at) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		// The caller gave up, Prometheus did not fail: nothing to count.
		return fmt.Errorf("prometheus poll: %w", err)
	}

	for i, q := range s.queries {
		if q.stamp >= 0 && outs[i].err == nil {
			outs[i] = dated(outs[i], outs[q.stamp], q, at)
		}
	}

	var samples map[place]int
	var errs []error
	for i, q := range s.queries {
		o := outs[i]
		s.note(q.kind.key, q.expr, o.err, o.drops)
		if o.err != nil {
			s.m.queries.WithLabelValues(q.kind.key, resultError).Inc()
			errs = append(errs, o.err)
			continue
		}
		s.m.queries.WithLabelValues(q.kind.key, resultSuccess).Inc()
		for r, n := range o.drops {
			s.m.dropped.WithLabelValues(q.kind.key, r).Add(float64(n))
		}
		if q.kind == &samplesKind {
			samples = sampleCounts(o.pts)
		}
	}
	var sigs []health.Signal
	for i, q := range s.queries {
		if outs[i].err == nil && q.kind != &samplesKind && q.of < 0 {
			sigs = append(sigs, toSignals(outs[i].pts, q.kind, samples)...)
		}
	}

	s.mu.Lock()
	s.lastOK = len(errs) == 0
	if s.lastOK {
		s.lastSuccess = at
		s.m.lastSuccess.Set(float64(at.UnixNano()) / 1e9)
	}
	s.mu.Unlock()

	for _, sig := range sigs {
		s.sink(sig)
	}
	return errors.Join(errs...)
}

// query runs one PromQL query at the instant at, and keeps its usable series.
func (s *Source) query(ctx context.Context, q query, at time.Time) outcome {
	start := time.Now()
	val, warns, _, err := s.api.Query(ctx, q.expr, at, v1.WithTimeout(s.cfg.Timeout))
	s.m.duration.WithLabelValues(q.kind.key).Observe(time.Since(start).Seconds())
	// Warnings mean a partial or doubtful answer (e.g. a remote store
	// missing); steering on part of the CDNs is worse than on none.
	if err == nil && len(warns) > 0 {
		err = fmt.Errorf("warnings: %s", strings.Join(warns, "; "))
	}
	var o outcome
	if err == nil {
		o.pts, o.drops, err = toPoints(val, q.kind)
	}
	if err != nil {
		return outcome{err: fmt.Errorf("prometheus query %s (%s): %w", q.kind.key, q.expr, err)}
	}
	return o
}

// dated is a signal query's outcome with each series dated by its
// timestamps query's outcome: a signal that cannot be dated is not sent,
// since stamping it with the query's instant is what hides a late feed.
func dated(o, stamps outcome, q query, at time.Time) outcome {
	if stamps.err != nil {
		return outcome{err: fmt.Errorf("prometheus query %s: its series cannot be dated, its timestamps query failed", q.kind.key)}
	}
	pts, drops := datePoints(o.pts, stamps.pts, at)
	for r, n := range o.drops {
		drops[r] += n
	}
	return outcome{pts: pts, drops: drops}
}
