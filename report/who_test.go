package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

// whoLog is a short event in which a token named "operator" drains fastly
// in kr and writes a note, "mina" activates a plan, and cdnsteer escalates
// on its own: the decision log says who did each.
func whoLog() []health.Decision {
	drain := &health.Override{ID: "o1", Action: health.ActionDrain, Region: "kr", CDN: "fastly", Reason: "PoP issue", By: "operator",
		Created: at(100), Expires: at(400)}
	plan := &health.PlanRef{Name: "fastly-out", Activation: "a1", By: "mina"}
	esc := &health.Escalation{ID: "e1", CDN: "edgio", Region: "kr", Text: "edgio degraded", Who: "cdnsteer", Auto: true, Opened: at(40)}
	return []health.Decision{
		{Time: at(0), Kind: health.DecisionCheckpoint, States: []health.CDNCheckpoint{
			{Policy: "live", Region: "kr", CDN: "edgio", Score: 98, Status: health.Healthy, Ramp: 1},
			{Policy: "live", Region: "kr", CDN: "fastly", Score: 97, Status: health.Healthy, Ramp: 1},
		}},
		{Time: at(5), Kind: health.DecisionAnnotation, Annotation: &health.Annotation{ID: "n1", Time: at(5), Text: "kick-off", By: "operator"}},
		{Time: at(40), Kind: health.DecisionEscalation, Escalation: esc},
		{Time: at(100), Kind: health.DecisionOverride, Region: "kr", CDN: "fastly", Override: drain},
		{Time: at(150), Kind: health.DecisionPlan, Plan: plan, Reason: "Fastly errors in kr"},
		{Time: at(220), Kind: health.DecisionOverrideEnd, Override: drain, Reason: "drain o1 ended: deleted"},
	}
}

// column is the cell of row under the head named name.
func column(t *testing.T, tb *Table, row int, name string) string {
	t.Helper()
	for i, h := range tb.Head {
		if h == name {
			return tb.Rows[row][i]
		}
	}
	t.Fatalf("table %s has no column %q: %q", tb.ID, name, tb.Head)
	return ""
}

// TestReportSaysWho checks that the overrides, notes, plans and
// escalations the report lists name who set them, in the tables (so in
// the CSV beside the page) and on the charts.
func TestReportSaysWho(t *testing.T) {
	doc := PostEvent(whoLog(), 0, "decisions.jsonl")
	tables := map[string]*Table{}
	for _, tb := range doc.Tables() {
		tables[tb.ID] = tb
	}
	for _, c := range []struct{ table, want string }{
		{"override-table", "operator"}, {"annotation-table", "operator"}, {"plan-table", "mina"}, {"escalation-table", "cdnsteer (automatic)"},
	} {
		tb := tables[c.table]
		if tb == nil || len(tb.Rows) != 1 {
			t.Fatalf("%s: %+v", c.table, tb)
		}
		if got := column(t, tb, 0, "by"); got != c.want {
			t.Errorf("%s: by %q, want %q", c.table, got, c.want)
		}
		var csv bytes.Buffer
		if err := tb.WriteCSV(&csv); err != nil || !strings.Contains(csv.String(), ","+c.want+",") {
			t.Errorf("%s as CSV lacks %q (%v): %s", c.table, c.want, err, csv.String())
		}
	}
	labels := map[string]bool{}
	tl := Analyze(whoLog(), at(600))
	for _, m := range tl.marks() {
		labels[m.Label] = true
	}
	for _, b := range tl.overrideBands(RegionKey{"live", "kr"}) {
		labels[b.Label] = true
	}
	for _, want := range []string{"kick-off — by operator", "drain fastly — by operator", "plan activated fastly-out — by mina", "escalated: edgio in kr — by cdnsteer"} {
		if !labels[want] {
			t.Errorf("no chart label %q in %v", want, labels)
		}
	}
	var page bytes.Buffer
	if err := Render(&page, doc); err != nil || !strings.Contains(page.String(), "drain fastly — by operator") {
		t.Errorf("the page does not say who drained fastly (%v)", err)
	}
	// A log from before issue 24 has no names: a dash, no "by".
	old := whoLog()
	old[1].Annotation.By = ""
	tl = Analyze(old, at(600))
	if got := column(t, tl.annotationSection().Blocks[0].Table, 0, "by"); got != "—" || tl.marks()[0].Label != "kick-off" {
		t.Errorf("a note without a name: by %q, mark %q", got, tl.marks()[0].Label)
	}
}
