package health

import "time"

// Decision kinds in the decision log.
const (
	DecisionState       = "state"     // a CDN's status changed
	DecisionWeights     = "weights"   // a region's live split moved
	DecisionFailOpen    = "fail_open" // every CDN of a region is out: baseline serves
	DecisionFailOpenEnd = "fail_open_end"
	DecisionStale       = "stale" // a region's telemetry went stale: split held
	DecisionStaleEnd    = "stale_end"
	DecisionOverride    = "override"     // an override was set
	DecisionOverrideEnd = "override_end" // removed or expired
	DecisionReload      = "reload"
	DecisionCheckpoint  = "checkpoint" // periodic state (full or what changed), for warm restarts
	DecisionAnnotation  = "annotation"
	DecisionRestore     = "restore"
	DecisionPlan        = "plan"         // a plan was activated (its overrides follow)
	DecisionPlanEnd     = "plan_end"     // a plan's overrides were ended as a whole
	DecisionSchedule    = "schedule"     // a schedule's window began
	DecisionScheduleEnd = "schedule_end" // and ended
)

// Decision is one line of the decision log: what changed, why, and the
// measurements behind it.
type Decision struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Policy string    `json:"policy,omitempty"`
	Region string    `json:"region,omitempty"`
	CDN    string    `json:"cdn,omitempty"`
	From   string    `json:"from,omitempty"`
	To     string    `json:"to,omitempty"`
	Score  *float64  `json:"score,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// Signals are the fresh readings behind a state change.
	Signals map[string]float64 `json:"signals,omitempty"`
	// Weights is a region's live split after a change, CDN → weight.
	Weights  map[string]float64 `json:"weights,omitempty"`
	Override *Override          `json:"override,omitempty"`
	// Delta marks a checkpoint that lists only the states whose score,
	// status or ramp changed, or that had a state change, since the
	// checkpoint before it in the same file; the others are as that one
	// left them (journal_delta.go, CheckpointState). A checkpoint without
	// it lists every state.
	Delta bool `json:"delta,omitempty"`
	// States is a checkpoint's states: all of them, or the changed ones.
	States     []CDNCheckpoint `json:"states,omitempty"`
	Annotation *Annotation     `json:"annotation,omitempty"`
	// Escalation is what an escalation or escalation_end is about.
	Escalation *Escalation `json:"escalation,omitempty"`
	// Plan names the plan (and activation) of a plan or plan_end.
	Plan *PlanRef `json:"plan,omitempty"`
	// Schedule is the window of a schedule or schedule_end.
	Schedule *ScheduleRef `json:"schedule,omitempty"`
}

// CDNCheckpoint is one CDN's state in one policy and region, as kept in a
// checkpoint for a warm restart.
type CDNCheckpoint struct {
	Policy string  `json:"policy"`
	Region string  `json:"region"`
	CDN    string  `json:"cdn"`
	Score  float64 `json:"score"`
	Status Status  `json:"status"`
	Ramp   float64 `json:"ramp"`
	Weight float64 `json:"weight"`
}

// Annotation is an operator's note on the event timeline.
type Annotation struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
	Tags []string  `json:"tags,omitempty"`
	// By names who wrote it: the API token's name.
	By string `json:"by,omitempty"`
}

// Journal receives decisions. It must not block: the engine calls it while
// evaluating.
type Journal interface {
	Record(Decision)
}

// nopJournal drops everything, for engines without a decision log.
type nopJournal struct{}

func (nopJournal) Record(Decision) {}
