package report

import (
	"fmt"

	"github.com/cdnsteer/cdnsteer/health"
)

// planSection lists the plans activated and ended and the schedules'
// windows, as the decision log tells them: who put a fallback in force,
// why, until when, and when the steered TTL changed with a window. The
// overrides a plan made are in the overrides table, with its reason.
func (tl *Timeline) planSection() Section {
	s := Section{ID: "plans", Title: "Plans and schedules"}
	if len(tl.Plans) == 0 {
		s.Paragraphs = []string{"No plan activated and no schedule's window in the log."}
		return s
	}
	t := &Table{ID: "plan-table", Head: []string{"time", "what", "plan", "schedule", "by", "detail"}}
	for _, d := range tl.Plans {
		plan, schedule := planNames(d)
		t.Rows = append(t.Rows, []string{Clock(d.Time), planWhat[d.Kind], plan, schedule, byCell(planBy(d)), d.Reason})
	}
	s.Blocks = []Block{{Table: t}}
	return s
}

var planWhat = map[string]string{
	health.DecisionPlan:        "plan activated",
	health.DecisionPlanEnd:     "plan ended",
	health.DecisionSchedule:    "window begins",
	health.DecisionScheduleEnd: "window ends",
}

func planNames(d health.Decision) (plan, schedule string) {
	if d.Plan != nil {
		plan, schedule = d.Plan.Name, d.Plan.Schedule
	}
	if d.Schedule != nil {
		plan, schedule = d.Schedule.Plan, d.Schedule.Name
	}
	return plan, schedule
}

// planBy is who activated or ended a plan, as its line names them; a
// schedule's window begins and ends on its own.
func planBy(d health.Decision) string {
	if d.Schedule != nil {
		return "cdnsteer (schedule)"
	}
	if d.Plan != nil {
		return d.Plan.By
	}
	return ""
}

// planMarks put activations, endings and windows on every chart.
func (tl *Timeline) planMarks() []Mark {
	var out []Mark
	for _, d := range tl.Plans {
		plan, schedule := planNames(d)
		label := fmt.Sprintf("%s %s%s", planWhat[d.Kind], plan, byLabel(planBy(d)))
		if d.Kind == health.DecisionSchedule || d.Kind == health.DecisionScheduleEnd {
			label = fmt.Sprintf("%s: %s", schedule, planWhat[d.Kind])
		}
		out = append(out, Mark{d.Time, label})
	}
	return out
}
