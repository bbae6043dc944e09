package escalation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Defaults of Options.
const (
	// DefaultResend is how often a firing alert is posted again, as
	// Prometheus does at its evaluation interval.
	DefaultResend = time.Minute
	// DefaultMaxBackoff caps the wait between two attempts at an
	// Alertmanager that does not answer.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultTimeout bounds one post.
	DefaultTimeout = 10 * time.Second
)

const (
	firstBackoff = time.Second
	// lifetimeResends: a firing alert ends this many resends ahead, so
	// that a few lost posts do not resolve it while a dead cdnsteer does,
	// in minutes.
	lifetimeResends = 4
	// statusQueue bounds the status changes waiting for the manager; past
	// it they are dropped and counted, and the manager reads the engine's
	// statuses again instead.
	statusQueue = 1024
	// reconcileEvery is how often the manager compares what it was told
	// with the engine's statuses, in case a change was dropped.
	reconcileEvery = 30 * time.Second
	// maxClosed bounds the closed escalations kept for the live view and
	// the API (the decision log has them all).
	maxClosed = 100
	// maxPending bounds the resolved alerts waiting for one Alertmanager
	// that does not answer; past it the oldest are dropped (each would
	// end in Alertmanager by itself a few minutes later anyway).
	maxPending = 1000
	maxText    = 1000
)

// Options wires a Manager to the rest of the process.
type Options struct {
	// Journal is the decision log escalations are recorded to; nil for
	// none.
	Journal health.Journal
	// Instance is every alert's instance label (the server's chaos_id or
	// host name); the policy's labels may set another.
	Instance string
	// GeneratorURL links every alert back to the live view; optional.
	GeneratorURL string
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Client posts the alerts (a client with DefaultTimeout when nil).
	Client *http.Client
	// Resend and MaxBackoff replace DefaultResend and DefaultMaxBackoff
	// when set.
	Resend     time.Duration
	MaxBackoff time.Duration
}

// ErrNotFound is the error of closing an escalation that is not open.
var ErrNotFound = errors.New("no such open escalation")

// ErrNotStarted is the error of opening an escalation before Start, when
// there is no policy to check its CDN and region against.
var ErrNotStarted = errors.New("escalations are not running yet")

// OpenError is the error of escalating a CDN and region that already
// have an open escalation: Alertmanager would see one alert for both.
type OpenError struct{ Existing health.Escalation }

func (e *OpenError) Error() string {
	return fmt.Sprintf("%s in region %s is already escalated (escalation %s, opened %s): close it first, or add a note to the timeline",
		e.Existing.CDN, e.Existing.Region, e.Existing.ID, e.Existing.Opened.UTC().Format(time.RFC3339))
}

// Manager keeps the open escalations and sends them to Alertmanager.
type Manager struct {
	opts   Options
	log    *slog.Logger
	events chan health.Decision
	wake   chan struct{}

	// engine is set by Start. Open reads its policy before taking mu,
	// and the engine records to Watch's journal holding its own lock, so
	// the two locks are never held together.
	engine atomic.Pointer[health.Engine]
	// dropped is set when a status change did not fit the queue.
	lost atomic.Bool

	mu       sync.Mutex
	cfg      Config
	open     []*openEscalation
	closed   []health.Escalation // oldest first
	statuses map[statusKey]*tracked
	targets  map[string]*target // endpoint → sender
	resync   bool               // the policy changed
	reconfig bool               // the Alertmanager list may have changed
	wg       sync.WaitGroup

	sent, failed *prometheus.CounterVec
	dropped      prometheus.Counter
}

type statusKey struct{ policy, region, cdn string }

// tracked is what the manager knows of one CDN's status in one policy and
// region.
// tracked is a CDN that is not healthy in a policy's region.
type tracked struct {
	status health.Status
	since  time.Time
	reason string // the engine's words for the last change
	// escalated: this stretch of degradation has had its escalation, so
	// an operator who closes it is not paged again until the CDN
	// recovers and degrades anew.
	escalated bool
}

type openEscalation struct {
	health.Escalation
	// troubled: the CDN was not healthy at some point since the
	// escalation opened. Only then does its being healthy resolve it: an
	// operator may escalate a CDN the scores still call healthy.
	troubled bool
}

// New returns a manager for cfg (the zero Config: no Alertmanager, no
// automatic escalation; escalations by hand are still recorded and shown).
func New(cfg Config, opts Options) *Manager {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if opts.Resend <= 0 {
		opts.Resend = DefaultResend
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	m := &Manager{opts: opts, log: opts.Logger, cfg: cfg,
		events: make(chan health.Decision, statusQueue), wake: make(chan struct{}, 1),
		statuses: map[statusKey]*tracked{}, targets: map[string]*target{},
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_escalation_alerts_sent_total",
			Help: "Alerts an Alertmanager accepted (firing, refreshed and resolved), by Alertmanager."}, []string{"alertmanager"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdnsteer_escalation_alerts_failed_total",
			Help: "Alerts in posts an Alertmanager did not accept or did not answer, by Alertmanager; they are retried."}, []string{"alertmanager"}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_escalation_status_dropped_total",
			Help: "Status changes the escalation sender fell behind on; it reads the engine's statuses again instead."}),
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(m.sent, m.failed, m.dropped, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "cdnsteer_escalations_open", Help: "Escalations open now (each a firing alert)."}, func() float64 {
			m.mu.Lock()
			defer m.mu.Unlock()
			return float64(len(m.open))
		}))
	}
	return m
}

// Watch returns a journal that records to next (nil for none) and hands
// the engine's status changes to m without ever waiting: the engine
// records to it while it evaluates.
func (m *Manager) Watch(next health.Journal) health.Journal { return watcher{next, m} }

type watcher struct {
	next health.Journal
	m    *Manager
}

func (w watcher) Record(d health.Decision) {
	if w.next != nil {
		w.next.Record(d)
	}
	if d.Kind != health.DecisionState {
		return
	}
	select {
	case w.m.events <- d:
	default:
		w.m.dropped.Inc()
		w.m.lost.Store(true)
		w.m.poke()
	}
}

// poke wakes the manager's loop; a wake already pending is enough.
func (m *Manager) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Restore reopens the escalations a decision log left open, before
// Start: an escalation survives a restart until it is closed or the CDN
// is healthy again. The closed ones are kept for the timeline. Resolved
// alerts a previous run had not yet delivered are not sent again: they
// end in Alertmanager by themselves, within lifetimeResends resends.
func (m *Manager) Restore(ds []health.Decision) {
	m.mu.Lock()
	defer m.mu.Unlock()
	open := map[string]*openEscalation{}
	for _, d := range ds {
		if d.Escalation == nil || d.Escalation.ID == "" {
			continue
		}
		switch d.Kind {
		case health.DecisionEscalation:
			open[d.Escalation.ID] = &openEscalation{Escalation: *d.Escalation, troubled: d.Escalation.Auto}
		case health.DecisionEscalationEnd:
			delete(open, d.Escalation.ID)
			m.keepClosed(*d.Escalation)
		}
	}
	for _, o := range open {
		if m.openFor(o.CDN, o.Region) == nil {
			m.open = append(m.open, o)
		}
	}
	sort.Slice(m.open, func(i, j int) bool { return m.open[i].Opened.Before(m.open[j].Opened) })
}

// Start runs the manager until ctx ends: it follows engine's statuses,
// opens and resolves escalations, and posts to every Alertmanager. done
// is closed once every goroutine it started has stopped.
func (m *Manager) Start(ctx context.Context, engine *health.Engine) (done <-chan struct{}) {
	m.engine.Store(engine)
	m.mu.Lock()
	m.resync, m.reconfig = true, true
	m.mu.Unlock()
	m.wg.Add(1)
	go m.run(ctx)
	ch := make(chan struct{})
	go func() {
		<-ctx.Done()
		m.wg.Wait()
		close(ch)
	}()
	return ch
}

// SetConfig switches to a reloaded policy's [escalation]; Alertmanagers
// no longer listed stop getting alerts, new ones get every open one.
func (m *Manager) SetConfig(cfg Config) {
	m.mu.Lock()
	m.cfg, m.reconfig, m.resync = cfg, true, true
	m.mu.Unlock()
	m.poke()
}

func (m *Manager) run(ctx context.Context) {
	defer m.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	var reconcileAt time.Time
	for {
		select {
		case <-ctx.Done():
			m.mu.Lock()
			for _, t := range m.targets {
				t.stop()
			}
			m.mu.Unlock()
			return
		case d := <-m.events:
			m.mu.Lock()
			m.observe(statusKey{d.Policy, d.Region, d.CDN}, health.Status(d.To), d.Time, d.Reason)
			m.mu.Unlock()
		case <-m.wake:
		case <-timer.C:
		}
		now := m.opts.Now()
		m.mu.Lock()
		due := m.resync || m.lost.Swap(false) || !now.Before(reconcileAt)
		m.resync = false
		if m.reconfig {
			m.reconfig = false
			m.syncTargets(ctx)
		}
		m.mu.Unlock()
		if due {
			eng := m.engine.Load()
			statuses, hc := eng.Statuses(), eng.Config()
			m.mu.Lock()
			m.reconcile(statuses, &hc, now)
			m.mu.Unlock()
			reconcileAt = now.Add(reconcileEvery)
		}
		m.mu.Lock()
		next := m.step(now)
		m.mu.Unlock()
		if next.IsZero() || next.After(reconcileAt) {
			next = reconcileAt
		}
		timer.Reset(max(next.Sub(now), time.Millisecond))
	}
}

// observe takes one CDN's status as of at. Under m.mu.
func (m *Manager) observe(k statusKey, st health.Status, at time.Time, reason string) {
	t := m.statuses[k]
	if t == nil {
		if st == health.Healthy {
			return // as known: a CDN not tracked is healthy
		}
		t = &tracked{status: health.Healthy}
		m.statuses[k] = t
	}
	if t.status == st {
		// A reconcile may have seen the change before its event came
		// with the engine's words for it.
		if t.reason == "" {
			t.reason = reason
		}
		return
	}
	t.status, t.since, t.reason = st, at, reason
	o := m.openFor(k.cdn, k.region)
	if st == health.Degraded {
		t.escalated = o != nil
	}
	if st != health.Healthy && o != nil {
		o.troubled = true
	}
	if st == health.Healthy {
		// Only CDNs not healthy are tracked: at 1,000 policies of 20
		// regions and 6 CDNs, tracking every one was 120,000 entries
		// (18-25 MB) that every step and check read through (issue 22).
		delete(m.statuses, k)
	}
}

// reconcile brings what the manager knows in line with the engine's
// statuses, and closes escalations of CDNs or regions a reload removed.
// Under m.mu.
func (m *Manager) reconcile(statuses []health.CDNStatus, hc *health.Config, now time.Time) {
	seen := map[statusKey]bool{}
	for _, s := range statuses {
		k := statusKey{s.Policy, s.Region, s.CDN}
		if s.Status != health.Healthy {
			seen[k] = true
		}
		since := s.Since
		if since.IsZero() {
			since = now
		}
		m.observe(k, s.Status, since, "")
	}
	for k := range m.statuses {
		if !seen[k] {
			delete(m.statuses, k)
		}
	}
	for _, o := range slices.Clone(m.open) {
		switch {
		case hc.CDNIndex(o.CDN) < 0:
			m.closeOpen(o, now, fmt.Sprintf("cdn %q is no longer in the policy", o.CDN))
		case hc.RegionIndex(o.Region) < 0:
			m.closeOpen(o, now, fmt.Sprintf("region %q is no longer in the policy", o.Region))
		}
	}
}

// step resolves the escalations of CDNs healthy again and opens those
// due after [escalation] after; it returns when the next one falls due
// (zero: none waiting). Under m.mu.
func (m *Manager) step(now time.Time) time.Time {
	for _, o := range slices.Clone(m.open) {
		if o.troubled && m.healthy(o.CDN, o.Region) {
			m.closeOpen(o, now, "the CDN is healthy again")
		}
	}
	after := m.cfg.After
	if after <= 0 {
		return time.Time{}
	}
	keys := make([]statusKey, 0, len(m.statuses))
	for k, t := range m.statuses {
		if t.status == health.Degraded && !t.escalated {
			keys = append(keys, k)
		}
	}
	// In a fixed order, so that of two CDNs due at once the same opens
	// first on every run.
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return a.policy+"/"+a.region+"/"+a.cdn < b.policy+"/"+b.region+"/"+b.cdn
	})
	var next time.Time
	for _, k := range keys {
		t := m.statuses[k]
		if t.escalated { // escalated above, with another policy's
			continue
		}
		if due := t.since.Add(after); now.Before(due) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		m.openAuto(k, t, now)
	}
	return next
}

// healthy tells whether cdn is healthy in region in every policy the
// manager knows of. Under m.mu.
func (m *Manager) healthy(cdn, region string) bool {
	for k, t := range m.statuses {
		if k.cdn == cdn && k.region == region && t.status != health.Healthy {
			return false
		}
	}
	return true
}

// openAuto opens the escalation of a CDN degraded for longer than
// [escalation] after. Under m.mu.
func (m *Manager) openAuto(k statusKey, t *tracked, now time.Time) {
	var policies []string
	for k2, t2 := range m.statuses {
		if k2.cdn == k.cdn && k2.region == k.region && t2.status == health.Degraded {
			policies = append(policies, k2.policy)
		}
	}
	sort.Strings(policies)
	why := t.reason
	if why == "" {
		why = "degraded"
	}
	e := health.Escalation{ID: newID(), CDN: k.cdn, Region: k.region, Policies: policies, Auto: true, Opened: now, Who: "cdnsteer",
		Text: fmt.Sprintf("%s has been degraded in region %s since %s UTC, longer than [escalation] after = %s", k.cdn, k.region, t.since.UTC().Format("15:04:05"), m.cfg.After),
		Why:  why}
	if o := m.openFor(k.cdn, k.region); o != nil {
		// An operator got there first: theirs stands for this one.
		m.markEscalated(k.cdn, k.region)
		return
	}
	m.add(&openEscalation{Escalation: e, troubled: true}, now)
}

// Open opens an operator's escalation of cdn in region. A mistake in the
// request is a *keyerr.Error and an escalation already open an
// *OpenError; either way nothing changes.
func (m *Manager) Open(cdn, region, text, who string) (health.Escalation, error) {
	text = strings.TrimSpace(text)
	eng := m.engine.Load()
	if eng == nil {
		return health.Escalation{}, ErrNotStarted
	}
	hc := eng.Config()
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case cdn == "":
		return health.Escalation{}, keyerr.New("cdn", "which CDN? e.g. %q", firstCDN(&hc))
	case hc.CDNIndex(cdn) < 0:
		return health.Escalation{}, keyerr.New("cdn", "unknown cdn %q", cdn)
	case region == "":
		return health.Escalation{}, keyerr.New("region", "which region? e.g. %q", hc.Regions[0])
	case hc.RegionIndex(region) < 0:
		return health.Escalation{}, keyerr.New("region", "unknown region %q", region)
	case text == "":
		return health.Escalation{}, keyerr.New("text", "say what is wrong and what is asked of whoever is paged")
	case utf8.RuneCountInString(text) > maxText:
		return health.Escalation{}, keyerr.New("text", "longer than %d characters", maxText)
	}
	if o := m.openFor(cdn, region); o != nil {
		return health.Escalation{}, &OpenError{Existing: o.Escalation}
	}
	policies := make([]string, len(hc.Policies))
	for i, p := range hc.Policies {
		policies[i] = p.Name
	}
	now := m.opts.Now()
	o := &openEscalation{Escalation: health.Escalation{ID: newID(), CDN: cdn, Region: region, Policies: policies, Text: text,
		Who: who, Why: "escalated by hand", Opened: now}, troubled: !m.healthy(cdn, region)}
	m.add(o, now)
	return o.Escalation, nil
}

// Close closes an open escalation; its alert resolves.
func (m *Manager) Close(id, reason string) (health.Escalation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.open {
		if o.ID == id {
			why := "closed by an operator"
			if reason = strings.TrimSpace(reason); reason != "" {
				why += ": " + reason
			}
			return m.closeOpen(o, m.opts.Now(), why), nil
		}
	}
	return health.Escalation{}, ErrNotFound
}

// add puts o in force, records it and has it sent. Under m.mu.
func (m *Manager) add(o *openEscalation, now time.Time) {
	m.open = append(m.open, o)
	m.markEscalated(o.CDN, o.Region)
	e := o.Escalation
	m.record(health.Decision{Time: now, Kind: health.DecisionEscalation, Policy: strings.Join(e.Policies, ","), Region: e.Region, CDN: e.CDN,
		Reason: e.Text, Escalation: &e})
	m.log.Warn("escalation opened", "id", e.ID, "cdn", e.CDN, "region", e.Region, "auto", e.Auto, "who", e.Who, "text", e.Text, "alertmanagers", len(m.targets))
	m.kickAll()
}

// closeOpen ends o as of now for why: its resolved alert waits for every
// Alertmanager. Under m.mu.
func (m *Manager) closeOpen(o *openEscalation, now time.Time, why string) health.Escalation {
	m.open = slices.DeleteFunc(m.open, func(x *openEscalation) bool { return x == o })
	e := o.Escalation
	e.Closed, e.Ended = now, why
	m.keepClosed(e)
	for _, t := range m.targets {
		a := alertOf(&e, m.opts.Instance, m.cfg.Labels, m.opts.GeneratorURL, now)
		t.pending = append(t.pending, pendingAlert{id: e.ID, alert: a})
		if over := len(t.pending) - maxPending; over > 0 {
			m.failed.WithLabelValues(t.name).Add(float64(over))
			t.pending = append(t.pending[:0], t.pending[over:]...)
		}
	}
	m.record(health.Decision{Time: now, Kind: health.DecisionEscalationEnd, Policy: strings.Join(e.Policies, ","), Region: e.Region, CDN: e.CDN,
		Reason: why, Escalation: &e})
	m.log.Info("escalation closed", "id", e.ID, "cdn", e.CDN, "region", e.Region, "why", why)
	m.kickAll()
	return e
}

func (m *Manager) keepClosed(e health.Escalation) {
	m.closed = append(m.closed, e)
	if over := len(m.closed) - maxClosed; over > 0 {
		m.closed = append(m.closed[:0], m.closed[over:]...)
	}
}

// markEscalated notes that the degradations of cdn in region now under
// way have their escalation. Under m.mu.
func (m *Manager) markEscalated(cdn, region string) {
	for k, t := range m.statuses {
		if k.cdn == cdn && k.region == region && t.status == health.Degraded {
			t.escalated = true
		}
	}
}

func (m *Manager) openFor(cdn, region string) *openEscalation {
	for _, o := range m.open {
		if o.CDN == cdn && o.Region == region {
			return o
		}
	}
	return nil
}

func (m *Manager) record(d health.Decision) {
	if m.opts.Journal != nil {
		m.opts.Journal.Record(d)
	}
}

func firstCDN(hc *health.Config) string {
	if len(hc.CDNs) == 0 {
		return ""
	}
	return hc.CDNs[0].Name
}

func newID() string {
	var b [8]byte
	// crypto/rand.Read never fails (it panics if the system cannot
	// supply randomness).
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
