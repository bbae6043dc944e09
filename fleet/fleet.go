// Package fleet carries overrides, annotations and pushed signals between
// the instances of one delegation (ns1, ns2, every PoP) through a NATS
// JetStream key-value bucket. Each instance keeps its own state and
// answers from it; the fleet only moves changes, in the background, so a
// query never waits on NATS and an instance cut off from it steers on.
// Conflicts are settled per key by Wins, identically everywhere.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

const (
	// heartbeatEvery is how often an instance tells the others its digest.
	heartbeatEvery = time.Second
	// staleAfter is how long without a heartbeat before a peer no longer
	// counts as seen: it is down or cut off, and its digest is old news.
	staleAfter = 10 * time.Second
	// echoWithin is how long this instance's own heartbeat may take to come
	// back through its watcher. A watcher whose consumer lived on a node
	// that died can fall silent while the connection lives on: past this,
	// the bucket is read afresh.
	echoWithin = 3 * time.Second
	// reconcileEvery bounds how long a change can wait for a put that
	// failed, besides the full comparison made at every (re)connection.
	reconcileEvery = 10 * time.Second
	// opTimeout bounds each call to NATS, so that a paused server costs
	// a few seconds of replication, never a stuck goroutine.
	opTimeout = 2 * time.Second
	// bucketTTL is how long the bucket keeps a value: past the longest
	// override (7 days) a value has no more work to do.
	bucketTTL = 8 * 24 * time.Hour
	// maxSignalBatch bounds one signals record, well below NATS's default
	// message size of 1 MB; a bigger push is sent in several.
	maxSignalBatch = 2000
	// signalQueue bounds the pushes waiting to go out; more are dropped
	// and counted: a signal that cannot go out in time is stale anyway.
	signalQueue = 64
	// maxSignalAge is the oldest pushed signal worth applying, as for a
	// push to the API.
	maxSignalAge = time.Hour
)

// Engine is what the fleet needs of the health engine.
type Engine interface {
	Overrides(now time.Time) []health.Override
	ApplyOverride(o health.Override, now time.Time) (bool, error)
	EndAppliedOverride(id string, now time.Time, reason string) bool
	CheckSignal(s health.Signal) error
	Push(sigs ...health.Signal)
}

// Notes is what the fleet needs of the annotation store.
type Notes interface {
	Put(n health.Annotation, now time.Time) (bool, error)
	Since(t time.Time) []health.Annotation
}

// Config is one instance's place in the fleet.
type Config struct {
	NATS        []string // server URLs
	Bucket      string
	Instance    string
	Credentials string // a NATS .creds file, optional
	CA          string // CA file for tls:// servers, optional

	Engine Engine
	Notes  Notes
	// Restored is the decision log read at start: the overrides ended
	// here before a restart, whose ends the bucket may not have yet.
	Restored []health.Decision
	// Changed is called after an override from a peer is applied or
	// ended, so that the answers follow at once rather than at the next
	// evaluation.
	Changed func()
	Logger  *slog.Logger
	Metrics prometheus.Registerer
	Now     func() time.Time
}

// Fleet is one instance's link to the others.
type Fleet struct {
	cfg  Config
	log  *slog.Logger
	m    *metrics
	done chan struct{}

	nudge  chan struct{}
	events chan struct{}
	sigq   chan []health.Signal

	mu      sync.Mutex
	pending map[string]*Record // local writes not yet in the bucket
	tombs   map[string]*Record // overrides ended, by key, while they matter
	status  Status
	connErr string

	// Owned by the run goroutine.
	nc        *nats.Conn
	known     map[string]*Record // the bucket as last read, by key
	peers     map[string]peer
	skipped   map[string]uint64 // key → revision already reported as skipped
	sigSeen   map[string]time.Time
	syncedAt  time.Time
	lastRecon time.Time
}

type peer struct {
	hb      Heartbeat
	contact time.Time
}

// Start connects to NATS in the background and returns at once: the
// instance serves whether or not NATS is there. Only a configuration that
// cannot work (no servers, unreadable credentials) is an error.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	if len(cfg.NATS) == 0 {
		return nil, errors.New("fleet: no NATS servers")
	}
	if !ValidInstance(cfg.Instance) {
		return nil, fmt.Errorf("fleet: instance %q is not a valid name (letters, digits, - and _, dot-separated)", cfg.Instance)
	}
	for _, f := range []string{cfg.Credentials, cfg.CA} {
		if f != "" {
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("fleet: %v", err)
			}
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Changed == nil {
		cfg.Changed = func() {}
	}
	f := &Fleet{
		cfg: cfg, log: cfg.Logger.With("fleet", cfg.Instance), m: newMetrics(cfg.Metrics), done: make(chan struct{}),
		nudge: make(chan struct{}, 1), events: make(chan struct{}, 1), sigq: make(chan []health.Signal, signalQueue),
		pending: map[string]*Record{}, tombs: map[string]*Record{},
		known: map[string]*Record{}, peers: map[string]peer{}, skipped: map[string]uint64{}, sigSeen: map[string]time.Time{},
	}
	f.restoreTombs(cfg.Restored, cfg.Now())
	f.syncedAt = cfg.Now()
	nc, err := nats.Connect(joinURLs(cfg.NATS), f.options()...)
	if err != nil {
		return nil, fmt.Errorf("fleet: %s", describe(err))
	}
	f.nc = nc
	go f.run(ctx)
	return f, nil
}

// Done is closed once the fleet has stopped after its context ended.
func (f *Fleet) Done() <-chan struct{} { return f.done }

func joinURLs(urls []string) string {
	s := ""
	for i, u := range urls {
		if i > 0 {
			s += ","
		}
		s += u
	}
	return s
}

func (f *Fleet) options() []nats.Option {
	opts := []nats.Option{
		nats.Name("cdnsteer " + f.cfg.Instance),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		// A paused server keeps its sockets open: only missed pings tell.
		nats.PingInterval(time.Second),
		nats.MaxPingsOutstanding(3),
		nats.Timeout(opTimeout),
		nats.ConnectHandler(func(nc *nats.Conn) { f.connected(nc) }),
		nats.ReconnectHandler(func(nc *nats.Conn) { f.connected(nc) }),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			f.m.connected.Set(0)
			if err != nil {
				f.setConnErr(err)
			}
			f.log.Warn("NATS disconnected: answering from local state, changes wait", "err", describeOrNil(err))
		}),
		nats.ReconnectErrHandler(func(nc *nats.Conn, err error) { f.setConnErr(err) }),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) { f.setConnErr(err) }),
	}
	if f.cfg.Credentials != "" {
		opts = append(opts, nats.UserCredentials(f.cfg.Credentials))
	}
	if f.cfg.CA != "" {
		opts = append(opts, nats.RootCAs(f.cfg.CA))
	}
	return opts
}

func (f *Fleet) connected(nc *nats.Conn) {
	f.m.connected.Set(1)
	f.mu.Lock()
	f.connErr = ""
	f.mu.Unlock()
	f.log.Info("NATS connected", "server", nc.ConnectedUrlRedacted())
	select {
	case f.events <- struct{}{}:
	default:
	}
}

// setConnErr keeps the latest connection error for the status, logging
// it when it changes: a reconnect loop must not repeat it every 250 ms.
func (f *Fleet) setConnErr(err error) {
	msg := describe(err)
	f.mu.Lock()
	changed := msg != f.connErr
	f.connErr = msg
	f.mu.Unlock()
	if changed {
		f.log.Error("NATS", "err", msg)
	}
}

func describeOrNil(err error) string {
	if err == nil {
		return ""
	}
	return describe(err)
}

// OverrideAdded queues an override written here for the bucket.
func (f *Fleet) OverrideAdded(o health.Override) {
	f.queue(overrideRecord(o, f.cfg.Instance))
}

// OverrideEnded queues the end of an override for the bucket, and keeps
// the tombstone so that a live copy arriving late cannot bring it back.
func (f *Fleet) OverrideEnded(o health.Override, at time.Time, reason string) {
	r := tombstone(o, f.cfg.Instance, at, reason)
	f.mu.Lock()
	f.tombs[r.Key()] = r
	f.mu.Unlock()
	f.queue(r)
}

// AnnotationAdded queues a note written here for the bucket.
func (f *Fleet) AnnotationAdded(n health.Annotation) {
	f.queue(&Record{Kind: KindAnnotation, Instance: f.cfg.Instance, Time: n.Time, Annotation: &n})
}

// SignalsPushed hands a push to the peers. It never blocks: when the
// queue is full the batch is dropped and counted.
func (f *Fleet) SignalsPushed(sigs []health.Signal) {
	select {
	case f.sigq <- sigs:
	default:
		f.m.signalsDropped.Add(float64(len(sigs)))
	}
}

func (f *Fleet) queue(r *Record) {
	f.mu.Lock()
	if old := f.pending[r.Key()]; old == nil || Wins(r, old) {
		f.pending[r.Key()] = r
	}
	f.mu.Unlock()
	select {
	case f.nudge <- struct{}{}:
	default:
	}
}

// restoreTombs takes, from the decision log, the overrides ended by hand
// or by a peer before a restart and still not expired: the bucket may
// still hold them live if NATS was away when they ended.
func (f *Fleet) restoreTombs(ds []health.Decision, now time.Time) {
	for _, d := range ds {
		if d.Kind != health.DecisionOverrideEnd || d.Override == nil || d.Override.Plan != nil {
			continue
		}
		o := *d.Override
		// A reload's end is this instance's policy, not an operator's
		// decision for the fleet.
		if containsReloadEnd(d.Reason) || !o.Expires.After(now) || !idToken.MatchString(o.ID) {
			continue
		}
		r := tombstone(o, f.cfg.Instance, d.Time, d.Reason)
		if old := f.tombs[r.Key()]; old == nil || Wins(r, old) {
			f.tombs[r.Key()] = r
		}
	}
}

func containsReloadEnd(reason string) bool {
	const mark = "ended: policy reload:"
	for i := 0; i+len(mark) <= len(reason); i++ {
		if reason[i:i+len(mark)] == mark {
			return true
		}
	}
	return false
}

// session is one connection's view of the bucket.
type session struct {
	kv      jetstream.KeyValue
	w       jetstream.KeyWatcher
	initial bool // the watcher is still delivering the bucket's contents
	opened  time.Time
	// echoed is when the watcher last delivered this instance's own
	// heartbeat; sent when the oldest heartbeat put since then went out.
	echoed, sent time.Time
}

// silent tells whether the watcher has stopped delivering: the bucket's
// contents not read in time, or a heartbeat put long ago not seen back.
func (s *session) silent(now time.Time) bool {
	if s.initial {
		return now.Sub(s.opened) > 10*time.Second
	}
	return !s.sent.IsZero() && now.Sub(s.sent) > echoWithin
}

func (s *session) stop() {
	if s != nil && s.w != nil {
		s.w.Stop()
	}
}

func (f *Fleet) run(ctx context.Context) {
	defer close(f.done)
	tick := time.NewTicker(heartbeatEvery)
	defer tick.Stop()
	var sess *session
	retry := time.Time{}
	defer func() {
		sess.stop()
		f.nc.Close()
		f.m.connected.Set(0)
	}()
	for {
		if sess == nil && f.nc.IsConnected() && !f.cfg.Now().Before(retry) {
			var err error
			if sess, err = f.open(ctx); err != nil {
				f.setConnErr(err)
				retry = f.cfg.Now().Add(time.Second)
			}
		}
		var updates <-chan jetstream.KeyValueEntry
		if sess != nil {
			updates = sess.w.Updates()
		}
		select {
		case <-ctx.Done():
			return
		case <-f.events:
			// A new connection: read the whole bucket again, which also
			// reconciles what changed on either side meanwhile.
			sess.stop()
			sess, retry = nil, time.Time{}
		case <-f.nudge:
			f.flush(ctx, sess)
		case sigs := <-f.sigq:
			f.sendSignals(ctx, sess, sigs)
		case e, ok := <-updates:
			switch {
			case !ok:
				sess = nil
			case e == nil:
				sess.initial = false
				f.reconcile(ctx, sess, true)
			default:
				f.receive(ctx, sess, e)
			}
		case <-tick.C:
			if sess != nil && sess.silent(f.cfg.Now()) {
				f.log.Warn("the bucket's watcher fell silent: reading the bucket afresh")
				sess.stop()
				sess, retry = nil, time.Time{}
			}
			if sess != nil && !sess.initial && f.cfg.Now().Sub(f.lastRecon) >= reconcileEvery {
				f.reconcile(ctx, sess, false)
			} else {
				// Puts that failed (a stream leader being elected, say)
				// are tried again every second.
				f.flush(ctx, sess)
			}
			f.heartbeat(ctx, sess, false)
		}
	}
}

// open binds the bucket (creating it when missing) and starts watching
// every key: the watcher first delivers the bucket's contents.
func (f *Fleet) open(ctx context.Context) (*session, error) {
	js, err := jetstream.New(f.nc)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	kv, err := js.KeyValue(octx, f.cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		replicas := 1
		// Three copies where there are three servers: the bucket then
		// outlives the loss of any one.
		if len(f.nc.Servers()) >= 3 {
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
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watching bucket %q: %w", f.cfg.Bucket, err)
	}
	// The whole bucket is read afresh: forget what a previous session
	// read, so that a bucket lost and recreated is filled again.
	clear(f.known)
	return &session{kv: kv, w: w, initial: true, opened: f.cfg.Now()}, nil
}

// receive settles one bucket entry against the local state.
func (f *Fleet) receive(ctx context.Context, sess *session, e jetstream.KeyValueEntry) {
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
		} else if sess != nil && !sess.initial {
			sess.echoed, sess.sent = now, time.Time{}
		}
		return
	case KindSignals:
		f.applySignals(sess, r, now)
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
func (f *Fleet) applySignals(sess *session, r *Record, now time.Time) {
	if r.Instance == f.cfg.Instance || sess == nil || sess.initial {
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
func (f *Fleet) reconcile(ctx context.Context, sess *session, full bool) {
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
	f.flush(ctx, sess)
}

// queueLocked is queue with f.mu held and no nudge.
func (f *Fleet) queueLocked(r *Record) {
	if old := f.pending[r.Key()]; old == nil || Wins(r, old) {
		f.pending[r.Key()] = r
	}
}

// flush puts the pending local writes the bucket does not already hold,
// oldest first, stopping at the first failure (NATS away or paused): they
// stay pending and go out at the next connection or reconcile.
func (f *Fleet) flush(ctx context.Context, sess *session) {
	if sess == nil || sess.initial || !f.nc.IsConnected() {
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
	sort.Slice(todo, func(i, j int) bool { return todo[i].Time.Before(todo[j].Time) })
	changed := false
	for _, r := range todo {
		if err := f.put(ctx, sess, r.Key(), r); err != nil {
			f.setConnErr(err)
			break
		}
		f.known[r.Key()] = r
		f.mu.Lock()
		if p := f.pending[r.Key()]; p != nil && Same(p, r) {
			delete(f.pending, r.Key())
		}
		f.mu.Unlock()
		f.m.published.WithLabelValues(r.Kind).Inc()
		changed = changed || r.Kind == KindOverride
	}
	if changed {
		f.heartbeat(ctx, sess, true)
	}
}

func (f *Fleet) put(ctx context.Context, sess *session, key string, r *Record) error {
	b, err := r.Encode()
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_, err = sess.kv.Put(pctx, key, b)
	return err
}

// sendSignals puts a push under this instance's signals key, in batches
// small enough for one NATS message. With no connection it is dropped and
// counted: by the time NATS is back it is stale.
func (f *Fleet) sendSignals(ctx context.Context, sess *session, sigs []health.Signal) {
	if sess == nil || sess.initial || !f.nc.IsConnected() {
		f.m.signalsDropped.Add(float64(len(sigs)))
		return
	}
	for len(sigs) > 0 {
		n := min(len(sigs), maxSignalBatch)
		now := f.cfg.Now()
		r := &Record{Kind: KindSignals, Instance: f.cfg.Instance, Time: now, Signals: FromSignals(sigs[:n])}
		if err := f.put(ctx, sess, r.Key(), r); err != nil {
			f.setConnErr(err)
			f.m.signalsDropped.Add(float64(len(sigs)))
			return
		}
		f.m.published.WithLabelValues(KindSignals).Add(float64(n))
		sigs = sigs[n:]
	}
}
