package fleet

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// receive settles one bucket entry against the local state.
func (f *Fleet) receive(e jetstream.KeyValueEntry) {
	key := e.Key()
	if e.Operation() != jetstream.KeyValuePut {
		// Removed by hand (nats kv del): the next reconcile puts back
		// whatever this instance still holds.
		delete(f.known, key)
		return
	}
	r, err := Decode(key, e.Value())
	if err != nil {
		reason := "corrupt"
		if errors.Is(err, ErrVersion) {
			reason = "version"
		}
		f.skip(key, e.Revision(), reason, err)
		return
	}
	now := f.cfg.Now()
	switch r.Kind {
	case KindInstance:
		if r.Instance != f.cfg.Instance {
			f.peers[r.Instance] = peer{hb: *r.Heartbeat, contact: e.Created()}
		} else if !f.sess.initial {
			f.sess.echoed, f.sess.sent = now, time.Time{}
		}
		return
	case KindSignals:
		f.applySignals(r, now)
		return
	}
	old := f.known[key]
	if old != nil && !Wins(r, old) && !Same(r, old) {
		// An older write landed after a newer one: put the newer back so
		// that the bucket, too, ends with the winner.
		f.known[key] = r
		f.queue(old)
		return
	}
	f.known[key] = r
	switch r.Kind {
	case KindOverride:
		f.applyOverride(key, e.Revision(), r, now)
	case KindAnnotation:
		if _, err := f.cfg.Notes.Put(*r.Annotation, now); err != nil {
			f.skip(key, e.Revision(), "invalid", err)
			return
		}
		f.m.applied.WithLabelValues(KindAnnotation).Inc()
	}
}

// local is this instance's own record under an override key.
func (f *Fleet) local(key, id string, now time.Time) *Record {
	f.mu.Lock()
	t := f.tombs[key]
	f.mu.Unlock()
	if t != nil {
		return t
	}
	for _, o := range f.cfg.Engine.Overrides(now) {
		if o.ID == id {
			return overrideRecord(o, f.cfg.Instance)
		}
	}
	return nil
}

func (f *Fleet) applyOverride(key string, rev uint64, r *Record, now time.Time) {
	o := *r.Override
	loc := f.local(key, o.ID, now)
	switch decide(loc, r) {
	case keep:
		return
	case reassert:
		f.queue(loc)
		return
	}
	if r.Ended {
		f.mu.Lock()
		if r.Matters(now) {
			f.tombs[key] = r
		}
		delete(f.pending, key)
		f.mu.Unlock()
		if f.cfg.Engine.EndAppliedOverride(o.ID, now, fmt.Sprintf("ended on %s: %s", r.Instance, r.Reason)) {
			f.m.applied.WithLabelValues("override_end").Inc()
			f.log.Info("override ended by a peer", "id", o.ID, "by", r.Instance, "reason", r.Reason)
			f.cfg.Changed()
		}
		return
	}
	if !r.InForce(now) {
		return
	}
	o.Origin = r.Override.Origin
	if o.Origin == "" {
		o.Origin = r.Instance
	}
	added, err := f.cfg.Engine.ApplyOverride(o, now)
	if err != nil {
		f.skip(key, rev, "policy", fmt.Errorf("override %s from %s does not fit this policy: %v", o.ID, o.Origin, err))
		return
	}
	if added {
		f.m.applied.WithLabelValues(KindOverride).Inc()
		f.log.Info("override from a peer", "id", o.ID, "origin", o.Origin, "action", o.Action, "cdn", o.CDN, "region", o.Region, "expires", o.Expires)
		f.cfg.Changed()
	}
}

// applySignals feeds a peer's push to the engine: the whole batch or, if
// any signal does not fit this policy, none of it. The bucket's contents
// read at connection are past pushes, not news: only live ones apply.
func (f *Fleet) applySignals(r *Record, now time.Time) {
	if r.Instance == f.cfg.Instance || f.sess.initial {
		return
	}
	if last, ok := f.sigSeen[r.Instance]; ok && !r.Time.After(last) {
		return
	}
	f.sigSeen[r.Instance] = r.Time
	sigs, err := r.HealthSignals()
	if err == nil {
		for i, s := range sigs {
			if now.Sub(s.Time) > maxSignalAge {
				err = fmt.Errorf("signals[%d]: older than %s", i, maxSignalAge)
				break
			}
			if cerr := f.cfg.Engine.CheckSignal(s); cerr != nil {
				err = fmt.Errorf("signals[%d]: %v", i, cerr)
				break
			}
		}
	}
	if err != nil {
		f.skip(KindSignals+"."+r.Instance, 0, "policy", fmt.Errorf("signals from %s: %v", r.Instance, err))
		return
	}
	f.cfg.Engine.Push(sigs...)
	f.m.applied.WithLabelValues(KindSignals).Add(float64(len(sigs)))
}

// skip logs and counts a bucket entry this instance cannot take, once per
// revision of its key.
func (f *Fleet) skip(key string, rev uint64, reason string, err error) {
	f.m.skipped.WithLabelValues(reason).Inc()
	if rev != 0 && f.skipped[key] == rev {
		return
	}
	if rev != 0 {
		f.skipped[key] = rev
	}
	f.log.Warn("fleet entry skipped", "key", key, "reason", reason, "err", err)
}

// reconcile compares everything this instance holds with the bucket:
// what it holds newer goes out, what the bucket holds newer was applied
// as it arrived.
// Notes are compared only at a connection (full): they never change,
// so one put there or by the hook stays.
func (f *Fleet) reconcile(full bool) {
	now := f.cfg.Now()
	f.lastRecon = now
	f.mu.Lock()
	for k, t := range f.tombs {
		if !t.Matters(now) {
			delete(f.tombs, k)
		}
	}
	for _, t := range f.tombs {
		f.queueLocked(t)
	}
	f.mu.Unlock()
	for _, o := range f.cfg.Engine.Overrides(now) {
		if o.Plan != nil {
			// A plan's overrides are each instance's own: schedules
			// run everywhere, and activations are made per instance.
			continue
		}
		r := overrideRecord(o, f.cfg.Instance)
		if k := f.known[r.Key()]; k != nil && k.Ended {
			f.applyOverride(r.Key(), 0, k, now)
			continue
		}
		f.queue(r)
	}
	if full {
		for _, n := range f.cfg.Notes.Since(now.Add(-bucketTTL)) {
			if f.known[KindAnnotation+"."+n.ID] == nil {
				f.queue(&Record{Kind: KindAnnotation, Instance: f.cfg.Instance, Time: n.Time, Annotation: &n})
			}
		}
	}
	f.dispatch()
}
