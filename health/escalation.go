package health

import "time"

// Decision kinds of escalations, beside those of decision.go.
const (
	DecisionEscalation    = "escalation"     // opened by an operator or after [escalation] after
	DecisionEscalationEnd = "escalation_end" // closed by an operator, or the CDN healthy again
)

// Escalation is a call for people's help with one CDN in one region,
// opened by an operator or, after [escalation] after, by the statuses
// themselves. health/escalation sends it to Alertmanager; the engine only
// records it in the decision log and never waits on it.
type Escalation struct {
	ID     string `json:"id"`
	CDN    string `json:"cdn"`
	Region string `json:"region"`
	// Policies are the policies it concerns: those in which the CDN was
	// degraded when an automatic one opened, every policy for one opened
	// by hand (an operator escalates a CDN in a region, not a policy).
	Policies []string `json:"policies"`
	// Text is the operator's note, or what the engine saw.
	Text string `json:"text"`
	// Who opened it ("cdnsteer" for an automatic one) and why.
	Who    string    `json:"who"`
	Why    string    `json:"why"`
	Auto   bool      `json:"auto"`
	Opened time.Time `json:"opened"`
	// Closed and Ended are set once it is over: when, and why (closed by
	// an operator, the CDN healthy again, gone from the policy).
	Closed time.Time `json:"closed,omitzero"`
	Ended  string    `json:"ended,omitempty"`
}

// CDNStatus is the engine's own status of one CDN in one policy and
// region, with when it last changed (zero when it never did since the
// start). A drain does not show here: whether a drained CDN is healthy
// again is still worth knowing to whoever was paged about it.
type CDNStatus struct {
	Policy, Region, CDN string
	Status              Status
	Since               time.Time
}

// Statuses lists every CDN's status in every policy and region of the
// policy in force, in the policy's order. A CDN never measured is healthy,
// as it is for steering.
func (e *Engine) Statuses() []CDNStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]CDNStatus, 0, len(e.cfg.Policies)*len(e.cfg.Regions)*len(e.cfg.CDNs))
	for _, p := range e.cfg.Policies {
		for _, r := range e.cfg.Regions {
			for _, c := range e.cfg.CDNs {
				s := CDNStatus{Policy: p.Name, Region: r, CDN: c.Name, Status: Healthy}
				// Read without cdnState, which would create entries.
				if st := e.cdns[stateKey{p.Name, r, c.Name}]; st != nil {
					s.Status, s.Since = st.status, st.lastChange
				}
				out = append(out, s)
			}
		}
	}
	return out
}
