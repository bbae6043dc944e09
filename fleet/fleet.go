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
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

const (
	// heartbeatEvery is how often an instance tells the others its digest.
	heartbeatEvery = time.Second
	// staleAfter is how long without a heartbeat before a peer no longer
	// counts as seen: it is down or cut off, and its digest is old news.
	staleAfter = 10 * time.Second
	// echoWithin is how long this instance's own heartbeat, once in the
	// bucket, may take to come back through its watcher. A watcher whose
	// consumer lived on a node that died falls silent while the
	// connection lives on (nats.go notices only after two missed 5 s
	// heartbeats): past this, the bucket is opened and read afresh.
	echoWithin = 2 * time.Second
	// readWithin is how long the bucket's contents may pause while they
	// are first read before the watcher counts as silent.
	readWithin = 5 * time.Second
	// rereadAfter is how long the fleet may disagree (a peer seen lately
	// stale, or with another digest) before this instance reads the
	// bucket afresh, in case its watcher misses entries while echoing
	// its own heartbeats; the wait doubles while the disagreement lasts
	// (a peer down, an override another policy refuses), up to
	// rereadMax. forgetAfter is how long a peer unheard of still counts.
	rereadAfter = 10 * time.Second
	rereadMax   = 5 * time.Minute
	forgetAfter = 2 * time.Minute
	// reconcileEvery bounds how long a change can wait for a put that
	// failed, besides the full comparison made at every (re)connection.
	reconcileEvery = 10 * time.Second
	// opTimeout bounds each put, and connecting to each server: a paused
	// server costs a few seconds of replication, never a stuck goroutine.
	opTimeout = 2 * time.Second
	// openTimeout bounds opening the bucket and starting its watcher,
	// which takes milliseconds when it works. It often does not while a
	// node is down: nats-server 2.9.10 (as 2.11 and earlier) places a new
	// watcher's consumer on any server of the stream, the dead one
	// included (fixed by nats-server PR #7165), and that request is never
	// answered: one try in three with one node of three down, for as long
	// as it is down. Each try is a new draw, so the answer is to give up
	// soon and try again.
	openTimeout = time.Second
	// openRetry is the pause after an opening that failed.
	openRetry = 250 * time.Millisecond
	// closeWait bounds how long a stopping instance waits for its NATS
	// connection to close: a paused server must not hold up a restart.
	closeWait = time.Second
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

// Fleet is one instance's link to the others. Nothing local waits on
// NATS: the hooks (OverrideAdded and the rest) only update a map under
// f.mu or hand a push to a bounded queue; run settles the bucket's
// entries against the local state and decides what to write, without a
// call to NATS; every put is made by the writer goroutine, bounded by
// opTimeout; connecting, and opening and watching the bucket, happen in
// goroutines of their own, bounded too. Writes made here stay pending
// until they are in the bucket, however long NATS is away.
type Fleet struct {
	cfg  Config
	log  *slog.Logger
	m    *metrics
	done chan struct{}

	nudge  chan struct{}        // a local write is pending (hooks → run)
	events chan struct{}        // a (re)connection (NATS's handlers → run)
	sigq   chan []health.Signal // pushes to send (hooks → writer)
	opened chan opened          // a bucket opened, or why not (opener → run)
	jobs   chan batch           // puts to make (run → writer), one batch at a time
	puts   chan written         // what the writer put (writer → run)

	// up and server follow the connection through NATS's handlers, so
	// that no goroutine here takes nats.Conn's lock: its reconnect loop
	// holds it while it waits on a server that does not answer.
	up     atomic.Bool
	server atomic.Pointer[string]
	// stopped: the fleet has stopped; a connection still closing (after
	// closeWait) reports nothing more.
	stopped atomic.Bool
	live    atomic.Pointer[session] // the session in use once the bucket is read, for the writer's signals

	mu      sync.Mutex
	pending map[string]*Record // local writes not yet in the bucket
	tombs   map[string]*Record // overrides ended, by key, while they matter
	status  Status
	connErr string

	// Owned by the run goroutine.
	nc        *nats.Conn
	sess      *session
	gen       uint64             // connections seen: a bucket opened for an older one is dropped
	opening   bool               // the bucket is being opened
	writing   bool               // a batch is with the writer
	retry     time.Time          // no opening before
	beat      *Record            // the heartbeat waiting to go out, if any
	known     map[string]*Record // the bucket as last read, by key
	peers     map[string]peer
	skipped   map[string]uint64 // key → revision already reported as skipped
	sigSeen   map[string]time.Time
	syncedAt  time.Time
	lastRecon time.Time
	// splitSince is when the fleet, as seen here, last began to disagree
	// (zero while it agrees); rereadWait how long before reading afresh.
	splitSince time.Time
	rereadWait time.Duration
}

type peer struct {
	hb      Heartbeat
	contact time.Time
}

// Start returns at once and connects to NATS in the background: the
// instance serves whether NATS is there, gone or paused (a paused server
// accepts connections and never answers: connecting first would hold up
// the instance's start by the connect timeout of each server). Only a
// configuration that cannot work (no servers, unreadable credentials) is
// an error.
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
		opened: make(chan opened, 1), jobs: make(chan batch, 1), puts: make(chan written, 1),
		pending: map[string]*Record{}, tombs: map[string]*Record{},
		known: map[string]*Record{}, peers: map[string]peer{}, skipped: map[string]uint64{}, sigSeen: map[string]time.Time{},
	}
	f.restoreTombs(cfg.Restored, cfg.Now())
	f.syncedAt, f.rereadWait = cfg.Now(), rereadAfter
	f.heartbeat()
	go f.run(ctx)
	return f, nil
}

// Done is closed once the fleet has stopped after its context ended.
func (f *Fleet) Done() <-chan struct{} { return f.done }

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
	f.queueLocked(r)
	f.mu.Unlock()
	select {
	case f.nudge <- struct{}{}:
	default:
	}
}

// queueLocked is queue with f.mu held and no nudge.
func (f *Fleet) queueLocked(r *Record) {
	if old := f.pending[r.Key()]; old == nil || Wins(r, old) {
		f.pending[r.Key()] = r
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
