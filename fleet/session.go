package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// session is one opening of the bucket: its watcher, and what run learns
// from it.
type session struct {
	gen  uint64 // the connection it was opened on
	kv   jetstream.KeyValue
	w    jetstream.KeyWatcher
	stop context.CancelFunc // ends the watcher; nats.go unsubscribes in a goroutine of its own
	// initial: the watcher is still delivering the bucket's contents;
	// last is when it delivered the latest of them.
	initial      bool
	opened, last time.Time
	// echoed is when the watcher last delivered this instance's own
	// heartbeat; sent when the oldest heartbeat put since then went in.
	echoed, sent time.Time
}

// opened is what an opening of the bucket gives run.
type opened struct {
	sess *session
	err  error
}

// silent tells whether the watcher has stopped delivering: the bucket's
// contents not read on, or a heartbeat put long ago not seen back.
func (s *session) silent(now time.Time) bool {
	if s.initial {
		return now.Sub(s.last) > readWithin
	}
	return !s.sent.IsZero() && now.Sub(s.sent) > echoWithin
}

// end stops the watcher without waiting on NATS (deleting its consumer
// takes nats.Conn's lock, which a reconnection to a paused server holds
// for seconds), and drains what it still delivers, so that nats.go's
// delivery goroutine is not left blocked on a full channel.
func (s *session) end() {
	if s == nil {
		return
	}
	s.stop()
	go func() {
		for range s.w.Updates() {
		}
	}()
}

// open opens the bucket for connection gen and hands the outcome to run.
// It runs in a goroutine of its own, bounded by openTimeout.
func (f *Fleet) open(ctx context.Context, nc *nats.Conn, gen uint64) {
	s, err := f.bind(ctx, nc)
	if s != nil {
		s.gen = gen
	}
	select {
	case f.opened <- opened{sess: s, err: err}:
	case <-ctx.Done():
		s.end()
	}
}

// bind binds the bucket (creating it when missing) and starts watching
// every key: the watcher first delivers the bucket's contents.
func (f *Fleet) bind(ctx context.Context, nc *nats.Conn) (*session, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	kv, err := js.KeyValue(octx, f.cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		replicas := 1
		// Three copies where there are three servers: the bucket then
		// outlives the loss of any one.
		if len(nc.Servers()) >= 3 {
			replicas = 3
		}
		kv, err = js.CreateKeyValue(octx, jetstream.KeyValueConfig{Bucket: f.cfg.Bucket, History: 1, TTL: bucketTTL,
			Replicas: replicas, Storage: jetstream.FileStorage, Description: "cdnsteer fleet: overrides, notes, signals, heartbeats"})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(octx, f.cfg.Bucket)
		}
		if err == nil {
			f.log.Info("created the fleet bucket", "bucket", f.cfg.Bucket, "replicas", replicas)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %q: %w", f.cfg.Bucket, err)
	}
	// The watcher lives as long as the context it is started with, so
	// it gets one of its own rather than octx: cancelled at the
	// deadline if the watcher is not started by then (which also ends
	// the request that waits for it), or when the session ends.
	wctx, stop := context.WithCancel(ctx)
	late := time.AfterFunc(time.Until(deadline(octx)), stop)
	w, err := kv.WatchAll(wctx)
	if !late.Stop() && err == nil {
		// Started, but too late: wctx is cancelled already.
		(&session{w: w, stop: stop}).end()
		err = context.DeadlineExceeded
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("watching bucket %q: %w", f.cfg.Bucket, err)
	}
	now := f.cfg.Now()
	return &session{kv: kv, w: w, stop: stop, initial: true, opened: now, last: now}, nil
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}
