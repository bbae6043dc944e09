package probe

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

// Runner probes every configured CDN, each on its own goroutine, so that
// one CDN's slow probe never delays another's.
type Runner struct {
	metrics *metrics
	sink    func(health.Signal)
	log     *slog.Logger
	client  *http.Client

	// mu serialises Update and Stop, which wait for goroutines; Last must
	// not wait behind them, hence lastMu.
	mu      sync.Mutex
	loops   map[string]*loop
	stopped bool

	lastMu sync.RWMutex
	last   map[string]Result
}

// loop is one CDN's running probe.
type loop struct {
	cfg    Config
	cancel context.CancelFunc
	done   chan struct{}
}

// NewRunner returns a Runner that registers its series on reg (nil: not
// registered), hands every result to sink (nil: dropped) and logs to log
// (nil: discarded). sink is called from the probe goroutines, one call at
// a time per CDN, and must not call Update or Stop.
func NewRunner(reg prometheus.Registerer, sink func(health.Signal), log *slog.Logger) *Runner {
	if sink == nil {
		sink = func(health.Signal) {}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		metrics: newMetrics(reg),
		sink:    sink,
		log:     log,
		client:  NewClient(nil),
		loops:   make(map[string]*loop),
		last:    make(map[string]Result),
	}
}

// Update makes the running probes match cfgs: it starts new ones, stops
// removed ones, restarts changed ones and leaves unchanged ones running
// undisturbed, so that a policy reload does not reset their schedule. It
// returns once stopped probes have finished, and no signal of theirs
// follows. An invalid Config is logged and treated as absent: better no
// data for that CDN than a CDN reported down because of a policy typo.
// After Stop, Update does nothing.
func (r *Runner) Update(cfgs []Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}

	want := make(map[string]Config, len(cfgs))
	for _, c := range cfgs {
		if err := c.Validate(); err != nil {
			r.log.Error("probe not started", "cdn", c.CDN, "err", err)
			continue
		}
		if _, dup := want[c.CDN]; dup {
			r.log.Error("probe configured twice, keeping the first", "cdn", c.CDN)
			continue
		}
		want[c.CDN] = c.WithDefaults()
	}

	// Cancel everything that goes first and then wait, so that several
	// probes in flight wind down together rather than one after another.
	var stopping []*loop
	for name, l := range r.loops {
		if c, ok := want[name]; !ok || c != l.cfg {
			l.cancel()
			stopping = append(stopping, l)
		}
	}
	for _, l := range stopping {
		<-l.done
		name := l.cfg.CDN
		if _, ok := want[name]; ok {
			continue
		}
		delete(r.loops, name)
		r.metrics.remove(name)
		r.lastMu.Lock()
		delete(r.last, name)
		r.lastMu.Unlock()
		r.log.Info("probe stopped", "cdn", name)
	}

	for name, c := range want {
		if l, ok := r.loops[name]; ok && l.cfg == c {
			continue
		}
		r.loops[name] = r.start(c)
		r.log.Info("probe started", "cdn", name, "url", c.URL, "interval", c.Interval, "timeout", c.Timeout)
	}
}

// Stop stops every probe and waits for their goroutines. Probes cut short
// report nothing. The series stay registered.
func (r *Runner) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.stopped = true
	for _, l := range r.loops {
		l.cancel()
	}
	for _, l := range r.loops {
		<-l.done
	}
	r.loops = nil
}

// Last returns the CDN's last result, for the live view.
func (r *Runner) Last(cdn string) (Result, bool) {
	r.lastMu.RLock()
	defer r.lastMu.RUnlock()
	res, ok := r.last[cdn]
	return res, ok
}

func (r *Runner) start(cfg Config) *loop {
	ctx, cancel := context.WithCancel(context.Background())
	l := &loop{cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go r.run(ctx, l, r.metrics.forCDN(cfg.CDN))
	return l
}

// run probes one CDN until ctx ends. The first probe waits a random part
// of the interval so that CDNs configured together (and several cdnsteer
// instances) do not probe in lockstep. Probes never overlap: the schedule
// keeps its rhythm, but a probe that overruns its slot is followed as soon
// as it ends.
func (r *Runner) run(ctx context.Context, l *loop, m *cdnMetrics) {
	defer close(l.done)
	cfg := l.cfg
	next := time.Now().Add(rand.N(cfg.Interval))
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res := Do(ctx, r.client, cfg)
		if ctx.Err() != nil {
			// Cut short by Update or Stop: says nothing about the CDN.
			return
		}
		r.record(res, m, cfg.Regions)

		// Log changes only: a dead CDN probed every second would
		// otherwise flood the log.
		switch {
		case res.Err != nil && !failing:
			r.log.Warn("probe failing", "cdn", cfg.CDN, "err", res.Err)
		case res.Err == nil && failing:
			r.log.Info("probe recovered", "cdn", cfg.CDN, "status", res.Status, "ttfb", res.TTFB)
		}
		failing = res.Err != nil

		next = next.Add(cfg.Interval)
		if now := time.Now(); next.Before(now) {
			next = now
		}
		t.Reset(time.Until(next))
	}
}

func (r *Runner) record(res Result, m *cdnMetrics, regions Regions) {
	m.observe(res)
	r.lastMu.Lock()
	r.last[res.CDN] = res
	r.lastMu.Unlock()
	for _, s := range regions.signals(res.Signal()) {
		r.sink(s)
	}
}
