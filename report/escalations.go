package report

import (
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// EscalationSpan is one escalation to Alertmanager, from when it opened
// to when it closed (zero To: still open at the end of the log).
type EscalationSpan struct {
	Escalation health.Escalation
	From, To   time.Time
}

// escalation reads an escalation opening or closing.
func (a *analysis) escalation(d health.Decision) {
	e := d.Escalation
	if e == nil {
		return
	}
	a.see("", e.Region, e.CDN)
	if d.Kind == health.DecisionEscalation {
		a.tl.Escalations = append(a.tl.Escalations, EscalationSpan{Escalation: *e, From: d.Time})
		return
	}
	for i := len(a.tl.Escalations) - 1; i >= 0; i-- {
		if s := &a.tl.Escalations[i]; s.Escalation.ID == e.ID && s.To.IsZero() {
			s.Escalation, s.To = *e, d.Time
			return
		}
	}
}

// escalationMarks put each escalation's opening on the charts.
func (tl *Timeline) escalationMarks() []Mark {
	var out []Mark
	for _, s := range tl.Escalations {
		out = append(out, Mark{s.From, "escalated: " + s.Escalation.CDN + " in " + s.Escalation.Region + byLabel(s.Escalation.Who)})
	}
	return out
}

func (tl *Timeline) escalationSection() Section {
	s := Section{ID: "escalations", Title: "Escalations"}
	if len(tl.Escalations) == 0 {
		s.Paragraphs = []string{"Nobody was paged: no escalation to Alertmanager."}
		return s
	}
	t := &Table{ID: "escalation-table", Head: []string{"opened", "closed", "region", "cdn", "by", "text", "why", "ended"}}
	for _, sp := range tl.Escalations {
		e := sp.Escalation
		closed, ended := "—", e.Ended
		if !sp.To.IsZero() {
			closed = Clock(sp.To)
		} else {
			ended = "open at the end of the log"
		}
		by := e.Who
		if e.Auto {
			by = "cdnsteer (automatic)"
		}
		t.Rows = append(t.Rows, []string{Clock(sp.From), closed, e.Region, e.CDN, by, e.Text, e.Why, ended})
	}
	t.Note = "Each escalation was an alert in Alertmanager (CDNSteeringEscalation) from its opening until it closed."
	s.Blocks = []Block{{Table: t}}
	return s
}
