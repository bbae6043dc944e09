package health

import "time"

// Status is a CDN's standing in one policy and region.
type Status string

// Statuses. Drained is shown for a CDN an operator took out; the engine's
// own view (healthy, degraded, recovering) continues underneath.
const (
	Healthy    Status = "healthy"
	Degraded   Status = "degraded"
	Recovering Status = "recovering"
	Drained    Status = "drained"
)

// cdnState is the engine's memory of one CDN in one policy and region.
type cdnState struct {
	score    float64
	hasScore bool
	status   Status
	below    int // evaluations in a row below the down threshold
	above    int // evaluations in a row at or above the up threshold
	// ramp is the share of its full weight a CDN may take: 0 when
	// degraded, climbing by RecoveryStep while recovering, 1 when healthy.
	ramp       float64
	lastChange time.Time
	readings   Readings
	weight     float64
	capacity   float64
	utilised   *float64
}

func newCDNState() *cdnState {
	return &cdnState{status: Healthy, ramp: 1}
}

// regionState is the engine's memory of one region of one policy.
type regionState struct {
	live       []float64
	lastGood   []float64 // the split last computed from fresh telemetry
	staleSince time.Time
	failedOpen bool
	logged     []float64 // the split last written to the decision log
	reason     string
}
