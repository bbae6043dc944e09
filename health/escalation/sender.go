package escalation

import (
	"context"
	"time"
)

// target is one Alertmanager and the goroutine that posts to it. Each has
// its own, so that one slow or down Alertmanager delays no other.
type target struct {
	endpoint string // its /api/v2/alerts
	name     string // its base address without a password, for logs and metrics
	kick     chan struct{}
	stop     context.CancelFunc

	// Guarded by Manager.mu.
	pending  []pendingAlert // resolved alerts not yet accepted, oldest first
	lastOK   time.Time
	lastErr  string
	failures int       // failed attempts in a row
	retryAt  time.Time // zero unless backing off
}

type pendingAlert struct {
	id    string
	alert Alert
}

// syncTargets starts a sender for every Alertmanager of the config and
// stops those no longer in it. Under m.mu.
func (m *Manager) syncTargets(ctx context.Context) {
	want := map[string]string{}
	for i, ep := range m.cfg.Endpoints() {
		want[ep] = redacted(m.cfg.Alertmanager[i])
	}
	for ep, t := range m.targets {
		if _, ok := want[ep]; !ok {
			t.stop()
			delete(m.targets, ep)
			m.log.Info("alertmanager removed: its alerts are no longer refreshed", "alertmanager", t.name)
		}
	}
	for ep, name := range want {
		if m.targets[ep] != nil {
			continue
		}
		tctx, cancel := context.WithCancel(ctx)
		t := &target{endpoint: ep, name: name, kick: make(chan struct{}, 1), stop: cancel}
		m.targets[ep] = t
		// Present from the start, so that a rate over them works before
		// the first failure.
		m.sent.WithLabelValues(name)
		m.failed.WithLabelValues(name)
		m.wg.Add(1)
		go m.deliver(tctx, t)
	}
}

// kickAll asks every sender to post now (unless it is backing off).
// Under m.mu.
func (m *Manager) kickAll() {
	for _, t := range m.targets {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
}

// deliver posts the open escalations (and the resolved ones waiting) to
// t: at once, when kicked, every Resend, and after a failure when the
// backoff is over.
func (m *Manager) deliver(ctx context.Context, t *target) {
	defer m.wg.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-t.kick:
			m.mu.Lock()
			waiting := m.opts.Now().Before(t.retryAt)
			m.mu.Unlock()
			if waiting {
				// The timer brings the retry; asking sooner would only
				// shorten the backoff for an Alertmanager still down.
				continue
			}
		}
		alerts, resolved := m.payload(t)
		var err error
		if len(alerts) > 0 {
			err = post(ctx, m.opts.Client, t.endpoint, alerts)
		}
		if ctx.Err() != nil {
			return
		}
		timer.Reset(m.settle(t, len(alerts), resolved, err))
	}
}

// payload is what t is to be sent now: every open escalation firing, and
// the resolved alerts t has not accepted yet, whose IDs it also returns.
func (m *Manager) payload(t *target) ([]Alert, []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	ends := now.Add(lifetimeResends * m.opts.Resend)
	alerts := make([]Alert, 0, len(m.open)+len(t.pending))
	for _, o := range m.open {
		alerts = append(alerts, alertOf(&o.Escalation, m.opts.Instance, m.cfg.Labels, m.opts.GeneratorURL, ends))
	}
	ids := make([]string, 0, len(t.pending))
	for _, p := range t.pending {
		alerts = append(alerts, p.alert)
		ids = append(ids, p.id)
	}
	return alerts, ids
}

// settle takes the outcome of a post of n alerts and returns when to post
// next: after Resend on success, after the backoff on failure.
func (m *Manager) settle(t *target, n int, resolved []string, err error) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.opts.Now()
	if err == nil {
		if n > 0 {
			m.sent.WithLabelValues(t.name).Add(float64(n))
		}
		if t.failures > 0 {
			m.log.Info("alertmanager reachable again: alerts delivered", "alertmanager", t.name, "failed_attempts", t.failures)
		}
		done := map[string]bool{}
		for _, id := range resolved {
			done[id] = true
		}
		kept := t.pending[:0]
		for _, p := range t.pending {
			if !done[p.id] {
				kept = append(kept, p)
			}
		}
		t.pending = kept
		t.failures, t.lastErr, t.retryAt = 0, "", time.Time{}
		t.lastOK = now
		return m.opts.Resend
	}
	m.failed.WithLabelValues(t.name).Add(float64(n))
	t.failures++
	t.lastErr = err.Error()
	wait := backoff(t.failures, m.opts.MaxBackoff)
	t.retryAt = now.Add(wait)
	// The first failure and then one in ten: a long outage must not fill
	// the log.
	if t.failures == 1 || t.failures%10 == 0 {
		m.log.Warn("alertmanager unreachable: retrying; steering is unaffected", "alertmanager", t.name, "alerts", n,
			"failed_attempts", t.failures, "retry_in", wait, "err", err)
	}
	return wait
}
