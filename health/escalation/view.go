package escalation

import (
	"slices"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// View is the escalations as GET /api/v1/escalations answers them.
type View struct {
	// After is [escalation] after ("" when escalations are by hand only).
	After string `json:"after"`
	// Escalations are the open ones, oldest first, then the recently
	// closed ones, newest first.
	Escalations   []Item       `json:"escalations"`
	Alertmanagers []TargetView `json:"alertmanagers"`
}

// Item is one escalation with its state, "open" or "closed".
type Item struct {
	health.Escalation
	State string `json:"state"`
}

// TargetView is how the alerts are getting to one Alertmanager.
type TargetView struct {
	URL         string    `json:"url"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError and Failures describe the attempts failed in a row;
	// RetryAt is when the next one is due.
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"failures"`
	RetryAt   time.Time `json:"retry_at,omitzero"`
	// Pending counts the resolved alerts it has not accepted yet.
	Pending int `json:"pending"`
}

// View returns the escalations and how their alerts are getting out.
func (m *Manager) View() View {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := View{Escalations: []Item{}, Alertmanagers: []TargetView{}}
	if m.cfg.After > 0 {
		v.After = m.cfg.After.String()
	}
	for _, o := range m.open {
		v.Escalations = append(v.Escalations, item(o.Escalation, "open"))
	}
	for _, e := range slices.Backward(m.closed) {
		v.Escalations = append(v.Escalations, item(e, "closed"))
	}
	for i, ep := range m.cfg.Endpoints() {
		tv := TargetView{URL: redacted(m.cfg.Alertmanager[i])}
		if t := m.targets[ep]; t != nil {
			tv.LastSuccess, tv.LastError, tv.Failures, tv.RetryAt, tv.Pending = t.lastOK, t.lastErr, t.failures, t.retryAt, len(t.pending)
		}
		v.Alertmanagers = append(v.Alertmanagers, tv)
	}
	return v
}

func item(e health.Escalation, state string) Item {
	if e.Policies == nil {
		e.Policies = []string{}
	}
	return Item{Escalation: e, State: state}
}
