package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

// TestEscalationsInReport: escalations in the decision log are a table
// of the report (opened, closed, by whom, why, how they ended, one still
// open at the end) and marks on its charts.
func TestEscalationsInReport(t *testing.T) {
	manual := health.Escalation{ID: "e1", CDN: "fastly", Region: "kr", Policies: []string{"live"}, Text: "call Fastly <now>", Who: "an operator at 10.0.0.1 (API)", Why: "escalated by hand", Opened: at(40)}
	closed := manual
	closed.Closed, closed.Ended = at(200), "closed by an operator: Fastly on it"
	auto := health.Escalation{ID: "e2", CDN: "edgio", Region: "kr", Policies: []string{"live"}, Text: "edgio has been degraded", Who: "cdnsteer", Why: "score 41 below 50", Auto: true, Opened: at(90)}
	ds := append(eventLog(),
		health.Decision{Time: at(40), Kind: health.DecisionEscalation, Region: "kr", CDN: "fastly", Escalation: &manual},
		health.Decision{Time: at(90), Kind: health.DecisionEscalation, Region: "kr", CDN: "edgio", Escalation: &auto},
		health.Decision{Time: at(200), Kind: health.DecisionEscalationEnd, Region: "kr", CDN: "fastly", Escalation: &closed})
	tl := Analyze(ds, at(600))
	if len(tl.Escalations) != 2 || !tl.Escalations[0].To.Equal(at(200)) || tl.Escalations[0].Escalation.Ended != closed.Ended || !tl.Escalations[1].To.IsZero() {
		t.Fatalf("escalations %+v", tl.Escalations)
	}
	var table *Table
	for _, s := range TimelineSections(tl) {
		if s.ID == "escalations" && len(s.Blocks) == 1 {
			table = s.Blocks[0].Table
		}
	}
	if table == nil || len(table.Rows) != 2 {
		t.Fatalf("no escalation table with two rows: %+v", table)
	}
	if got := strings.Join(table.Rows[0], "|"); got != "11:00:40|11:03:20|kr|fastly|an operator at 10.0.0.1 (API)|call Fastly <now>|escalated by hand|closed by an operator: Fastly on it" {
		t.Errorf("first row %s", got)
	}
	if got := strings.Join(table.Rows[1], "|"); got != "11:01:30|—|kr|edgio|cdnsteer (automatic)|edgio has been degraded|score 41 below 50|open at the end of the log" {
		t.Errorf("second row %s", got)
	}
	marks := 0
	for _, m := range tl.marks() {
		if strings.HasPrefix(m.Label, "escalated: ") {
			marks++
		}
	}
	if marks != 2 {
		t.Errorf("%d escalation marks on the charts, want 2", marks)
	}
	var b bytes.Buffer
	if err := Render(&b, PostEvent(ds, 0, "decisions.jsonl")); err != nil {
		t.Fatal(err)
	}
	if page := b.String(); !strings.Contains(page, `id="escalation-table"`) || !strings.Contains(page, "call Fastly &lt;now&gt;") {
		t.Error("the rendered report lacks the escalation table, or does not escape its text")
	}

	if s := Analyze(eventLog(), at(600)).escalationSection(); len(s.Blocks) != 0 || len(s.Paragraphs) != 1 {
		t.Errorf("without escalations: %+v", s)
	}
}
