package fleet

import (
	"context"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// run settles what the bucket holds against what this instance holds.
// It makes no call to NATS: connecting, opening the bucket and putting
// are handed to goroutines that report back, so that an entry from a
// peer is applied here as soon as it arrives whatever NATS is doing.
func (f *Fleet) run(ctx context.Context) {
	defer close(f.done)
	ready := make(chan *nats.Conn, 1)
	go f.connect(ctx, ready)
	go f.write(ctx)
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	defer f.shutdown()
	for {
		f.maybeOpen(ctx)
		var updates <-chan jetstream.KeyValueEntry
		if f.sess != nil {
			updates = f.sess.w.Updates()
		}
		var retry <-chan time.Time
		if wait := f.retry.Sub(f.cfg.Now()); f.sess == nil && !f.opening && wait > 0 {
			retry = time.After(wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-retry:
		case f.nc = <-ready:
			ready = nil
		case <-f.events:
			// A new connection: read the whole bucket again, which also
			// reconciles what changed on either side meanwhile.
			f.gen++
			f.drop()
		case o := <-f.opened:
			f.opening = false
			f.adopt(o)
		case w := <-f.puts:
			f.writing = false
			f.settle(w)
		case <-f.nudge:
			f.dispatch()
		case e, ok := <-updates:
			f.sess.last = f.cfg.Now()
			switch {
			case !ok:
				f.drop()
			case e == nil:
				f.sess.initial = false
				f.live.Store(f.sess)
				f.reconcile(true)
			default:
				f.receive(e)
			}
		case <-tick.C:
			now := f.cfg.Now()
			if f.sess != nil && f.sess.silent(now) {
				f.log.Warn("the bucket's watcher fell silent: reading the bucket afresh")
				f.drop()
			}
			if f.sess != nil && !f.sess.initial && now.Sub(f.lastRecon) >= reconcileEvery {
				f.reconcile(false)
			}
			f.heartbeat()
			if f.sess != nil && !f.sess.initial && !f.splitSince.IsZero() &&
				now.Sub(f.splitSince) > f.rereadWait && now.Sub(f.sess.opened) > f.rereadWait {
				f.log.Warn("the fleet disagrees: reading the bucket afresh", "since", f.splitSince)
				f.drop()
				f.rereadWait = min(2*f.rereadWait, rereadMax)
			}
			// Puts that failed (a stream leader being elected, say) are
			// tried again every second.
			f.dispatch()
		}
	}
}

// maybeOpen opens the bucket when connected without a session.
func (f *Fleet) maybeOpen(ctx context.Context) {
	if f.nc == nil || f.sess != nil || f.opening || !f.up.Load() || f.cfg.Now().Before(f.retry) {
		return
	}
	f.opening = true
	go f.open(ctx, f.nc, f.gen)
}

// adopt takes a newly opened bucket as the session, unless a newer
// connection came meanwhile (then it is opened again).
func (f *Fleet) adopt(o opened) {
	switch {
	case o.err != nil:
		f.setConnErr(o.err)
		f.retry = f.cfg.Now().Add(openRetry)
	case o.sess.gen != f.gen:
		o.sess.end()
	default:
		f.sess = o.sess
		// The whole bucket is read afresh: forget what a previous
		// session read, so that a bucket lost and recreated is filled
		// again.
		clear(f.known)
	}
}

// drop ends the session; the next loop opens the bucket again.
func (f *Fleet) drop() {
	f.sess.end()
	f.sess = nil
	f.live.Store(nil)
	f.retry = time.Time{}
}

// dispatch hands the writer the pending local writes the bucket does not
// already hold, oldest first, and the heartbeat if one is due: one batch
// at a time, and only with the bucket read (what it holds decides what
// needs writing).
func (f *Fleet) dispatch() {
	if f.writing || f.sess == nil || f.sess.initial || !f.up.Load() {
		return
	}
	f.mu.Lock()
	todo := make([]*Record, 0, len(f.pending))
	for k, r := range f.pending {
		// A note never changes: any copy in the bucket is this one.
		if known := f.known[k]; known != nil && (r.Kind == KindAnnotation || Same(known, r) || Wins(known, r)) {
			delete(f.pending, k)
			continue
		}
		todo = append(todo, r)
	}
	f.mu.Unlock()
	if len(todo) == 0 && f.beat == nil {
		return
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].Time.Before(todo[j].Time) })
	f.jobs <- batch{sess: f.sess, recs: todo, beat: f.beat}
	f.writing, f.beat = true, nil
}

// settle takes in what the writer put. A put that failed stays pending
// and is tried again at the next tick.
func (f *Fleet) settle(w written) {
	if w.err != nil {
		f.setConnErr(w.err)
	}
	if w.sess != f.sess {
		// Put through a session since dropped: the new one reads the
		// bucket afresh, these writes included.
		return
	}
	if w.err == nil {
		// NATS takes writes: an error from a put that failed earlier
		// is over.
		f.mu.Lock()
		f.connErr = ""
		f.mu.Unlock()
	}
	changed := false
	for _, r := range w.done {
		f.known[r.Key()] = r
		f.mu.Lock()
		if p := f.pending[r.Key()]; p != nil && Same(p, r) {
			delete(f.pending, r.Key())
		}
		f.mu.Unlock()
		f.m.published.WithLabelValues(r.Kind).Inc()
		changed = changed || r.Kind == KindOverride
	}
	if !w.beatAt.IsZero() && f.sess.sent.IsZero() {
		f.sess.sent = w.beatAt
	}
	if changed {
		// The digest moved: the peers hear of it now, not next second.
		f.heartbeat()
	}
	if w.err == nil {
		f.dispatch()
	}
}

// shutdown ends the session and closes the connection, waiting on
// neither longer than closeWait.
func (f *Fleet) shutdown() {
	f.stopped.Store(true)
	f.drop()
	f.up.Store(false)
	f.m.connected.Set(0)
	if f.nc == nil {
		return
	}
	closed := make(chan struct{})
	go func() {
		f.nc.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(closeWait):
		// The server does not answer: the process ends without it.
	}
}
