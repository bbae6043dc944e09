package fleet

import (
	"context"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// batch is one round of puts for the writer: overrides, ends and notes,
// oldest first, then the heartbeat.
type batch struct {
	sess *session
	recs []*Record
	beat *Record
}

// written is what the writer did with a batch: the records it put, in
// order, until the first failure, and when the heartbeat went in.
type written struct {
	sess   *session
	done   []*Record
	beatAt time.Time
	err    error
}

// write makes every put, each bounded by opTimeout, so that a paused or
// leaderless stream holds up replication only, never this instance.
func (f *Fleet) write(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-f.jobs:
			w := written{sess: b.sess}
			for _, r := range b.recs {
				if w.err = put(ctx, b.sess, r); w.err != nil {
					break
				}
				w.done = append(w.done, r)
			}
			if b.beat != nil && w.err == nil {
				if w.err = put(ctx, b.sess, b.beat); w.err == nil {
					w.beatAt = f.cfg.Now()
				}
			}
			select {
			case f.puts <- w:
			case <-ctx.Done():
				return
			}
		case sigs := <-f.sigq:
			f.sendSignals(ctx, sigs)
		}
	}
}

func put(ctx context.Context, sess *session, r *Record) error {
	b, err := r.Encode()
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err = sess.kv.Put(pctx, r.Key(), b)
	return err
}

// sendSignals puts a push under this instance's signals key, in batches
// small enough for one NATS message. Without a bucket read it is dropped
// and counted: by the time NATS is back it is stale.
func (f *Fleet) sendSignals(ctx context.Context, sigs []health.Signal) {
	sess := f.live.Load()
	if sess == nil || !f.up.Load() {
		f.m.signalsDropped.Add(float64(len(sigs)))
		return
	}
	for len(sigs) > 0 {
		n := min(len(sigs), maxSignalBatch)
		r := &Record{Kind: KindSignals, Instance: f.cfg.Instance, Time: f.cfg.Now(), Signals: FromSignals(sigs[:n])}
		if err := put(ctx, sess, r); err != nil {
			f.setConnErr(err)
			f.m.signalsDropped.Add(float64(len(sigs)))
			return
		}
		f.m.published.WithLabelValues(KindSignals).Add(float64(n))
		sigs = sigs[n:]
	}
}
