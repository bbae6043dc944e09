package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

// TestPlansInTheReport puts a window with a plan and a hand activation in
// a log: the report lists them in order, with who and why, and marks them
// on the charts.
func TestPlansInTheReport(t *testing.T) {
	match := &health.ScheduleRef{Name: "match", Start: at(10), End: at(500), TTL: 10, Plan: "akamai-kr-out"}
	ds := append(eventLog(),
		health.Decision{Time: at(10), Kind: health.DecisionSchedule, Schedule: match, Reason: "schedule match in force until …, steered TTL 10 s"},
		health.Decision{Time: at(150), Kind: health.DecisionPlan, Plan: &health.PlanRef{Name: "fastly-out", Activation: "a1", By: "mina"},
			Reason: "plan fastly-out activated by mina until …: Fastly errors in kr"},
		health.Decision{Time: at(200), Kind: health.DecisionPlanEnd, Plan: &health.PlanRef{Name: "fastly-out"}, Reason: "plan fastly-out ended (1 overrides): back"},
		health.Decision{Time: at(500), Kind: health.DecisionScheduleEnd, Schedule: match, Reason: "schedule match ended: its window is over"},
	)
	tl := Analyze(ds, at(600))
	if len(tl.Plans) != 4 {
		t.Fatalf("plans in the timeline: %+v", tl.Plans)
	}
	s := tl.planSection()
	if len(s.Blocks) != 1 || len(s.Blocks[0].Table.Rows) != 4 {
		t.Fatalf("section: %+v", s)
	}
	rows := s.Blocks[0].Table.Rows
	if strings.Join(rows[0][1:4], "|") != "window begins|akamai-kr-out|match" || strings.Join(rows[1][1:3], "|") != "plan activated|fastly-out" ||
		rows[1][4] != "mina" || !strings.Contains(rows[1][5], "by mina") || rows[3][1] != "window ends" {
		t.Errorf("rows: %q", rows)
	}
	labels := map[string]bool{}
	for _, m := range tl.marks() {
		labels[m.Label] = true
	}
	if !labels["match: window begins"] || !labels["plan activated fastly-out — by mina"] {
		t.Errorf("marks: %v", labels)
	}
	var b bytes.Buffer
	if err := Render(&b, PostEvent(ds, 0, "decisions.jsonl")); err != nil || !strings.Contains(b.String(), `id="plan-table"`) {
		t.Errorf("rendered report lacks the plan table (%v)", err)
	}
	if s := Analyze(eventLog(), at(600)).planSection(); len(s.Blocks) != 0 || len(s.Paragraphs) != 1 {
		t.Errorf("a log without plans: %+v", s)
	}
}
