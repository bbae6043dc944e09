package sim

import (
	"fmt"
	"strings"

	"github.com/cdnsteer/cdnsteer/report"
)

// withoutLabel says in the report what a counterfactual left out.
var withoutLabel = map[string]string{
	WithoutPlans: "without the plans",
	WithoutTTL:   "without the TTL changes",
	// The players that use content steering follow DNS as the others.
	WithoutSteering: "DNS alone",
}

// compareFigures are the headline numbers of what each left-out thing
// changed: the viewer-minutes impaired it saved, or cost.
func (r *Result) compareFigures() []report.Figure {
	s := &r.Summary
	var out []report.Figure
	for _, cf := range s.Counterfactuals {
		saved := cf.ViewerMinutesImpaired - s.ViewerMinutesImpaired
		what := map[string]string{WithoutPlans: "plans", WithoutTTL: "TTL changes", WithoutSteering: "content steering"}[cf.Without]
		label := "Viewer-minutes the " + what + " saved"
		if saved < 0 {
			label = "Viewer-minutes the " + what + " cost"
		}
		out = append(out, report.Figure{ID: "saved-by-" + cf.Without, Label: label, Value: report.Int(abs(saved)), Raw: saved,
			Note: fmt.Sprintf("%s impaired with them, %s %s", report.Int(s.ViewerMinutesImpaired), report.Int(cf.ViewerMinutesImpaired), withoutLabel[cf.Without])})
	}
	return out
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// compareSection sets the run beside the same event, same seed, without
// the plans and without the TTL changes.
func (r *Result) compareSection() report.Section {
	s := &r.Summary
	sec := report.Section{ID: "what-changed", Title: "What the plans and the TTL changes did"}
	if r.steeringPhrase() != "" {
		sec.Title = "What the plans, the TTL changes and content steering did"
	}
	sec.Paragraphs = append(sec.Paragraphs, "The same event with the same seed (the same resolvers, noise and faults), run again less one thing the operators arranged: "+
		"without the plans, no activation the scenario scripts and no plan a schedule puts in force; without the TTL changes, every answer carries the policy's TTL. "+
		"Resolvers keep each answer for the TTL it carried when they cached it.")
	if p := r.planPhrase(); p != "" {
		sec.Paragraphs = append(sec.Paragraphs, p)
	}
	if p := r.ttlPhrase(); p != "" {
		sec.Paragraphs = append(sec.Paragraphs, p)
	}
	if p := r.steeringPhrase(); p != "" {
		sec.Paragraphs = append(sec.Paragraphs, p)
	}
	t := &report.Table{ID: "what-changed-table", Caption: "The run and its counterfactuals",
		Head: []string{"run", "viewer-minutes impaired", "of them faulted", "of them saturated", "peak viewers impaired", "highest load vs commit", "CDN-minutes over commit",
			"degradations", "split moves", "viewer switches"},
		Numeric: []bool{false, true, true, true, true, true, true, true, true, true}}
	highest := func(cdn string, u float64) string {
		if cdn == "" {
			return "—"
		}
		return report.Percent(u) + " " + cdn
	}
	cdn, u, over := s.highest()
	t.Rows = append(t.Rows, []string{"as rehearsed", report.Int(s.ViewerMinutesImpaired), report.Int(s.ViewerMinutesFaulted), report.Int(s.ViewerMinutesSaturated),
		report.Int(float64(s.PeakImpaired)), highest(cdn, u), report.Fixed(over, 1), report.Int(float64(s.Degradations)), report.Int(float64(s.Shifts)), report.Int(float64(s.ViewerSwitches))})
	for _, cf := range s.Counterfactuals {
		t.Rows = append(t.Rows, []string{withoutLabel[cf.Without], report.Int(cf.ViewerMinutesImpaired), report.Int(cf.ViewerMinutesFaulted), report.Int(cf.ViewerMinutesSaturated),
			report.Int(float64(cf.PeakImpaired)), highest(cf.HighestCDN, cf.HighestUtilisation), report.Fixed(cf.MinutesOverCommit, 1),
			report.Int(float64(cf.Degradations)), report.Int(float64(cf.Shifts)), report.Int(float64(cf.ViewerSwitches))})
	}
	sec.Blocks = append(sec.Blocks, report.Block{Table: t})
	if len(s.Faults) == 0 {
		return sec
	}
	ft := &report.Table{ID: "what-changed-faults", Caption: "Each fault and drain: viewer-minutes impaired, and when 90 % of its viewers had moved",
		Head: []string{"fault", "as rehearsed"}, Numeric: []bool{false, true}}
	for _, cf := range s.Counterfactuals {
		ft.Head = append(ft.Head, withoutLabel[cf.Without])
		ft.Numeric = append(ft.Numeric, true)
	}
	moved := func(vm float64, d *Seconds) string {
		after := "not by the end"
		if d != nil {
			after = report.Duration(d.D())
		}
		return report.Int(vm) + "; " + after
	}
	for i, f := range s.Faults {
		row := []string{f.Name, moved(f.ViewerMinutesImpaired, f.MovedAfter)}
		for _, cf := range s.Counterfactuals {
			row = append(row, moved(cf.Faults[i].ViewerMinutesImpaired, cf.Faults[i].MovedAfter))
		}
		ft.Rows = append(ft.Rows, row)
	}
	sec.Blocks = append(sec.Blocks, report.Block{Table: ft})
	return sec
}

// planPhrase lists the plans put in force during the event.
func (r *Result) planPhrase() string {
	sc := r.Scenario
	var parts []string
	for _, a := range sc.Plans {
		at := report.Clock(sc.Start.Add(a.At))
		if a.End {
			parts = append(parts, fmt.Sprintf("%s ended at %s", a.Plan, at))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s activated at %s", a.Plan, at))
	}
	for i, s := range sc.Policy.Config.Schedules {
		if s.Plan != "" && sc.inEvent(i) {
			parts = append(parts, fmt.Sprintf("%s in force with schedule %s from %s to %s", s.Plan, s.Name, report.Clock(s.Start), report.Clock(s.End)))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Plans: " + strings.Join(parts, "; ") + "."
}

// ttlPhrase lists the TTL changes that apply during the event.
func (r *Result) ttlPhrase() string {
	sc := r.Scenario
	var parts []string
	for i, s := range sc.Policy.Config.Schedules {
		if s.TTL > 0 && s.TTL != sc.Policy.TTL && sc.inEvent(i) {
			parts = append(parts, fmt.Sprintf("%s during schedule %s (%s to %s)", s.TTL, s.Name, report.Clock(s.Start), report.Clock(s.End)))
		}
	}
	if flux := sc.Policy.Config.Policies[sc.Policy.Index].TTLInFlux; flux > 0 && flux != sc.Policy.TTL {
		parts = append(parts, fmt.Sprintf("%s in a region while one of its CDNs is degraded or recovering (ttl_in_flux)", flux))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("TTL changes: the policy's TTL is %s; %s.", sc.Policy.TTL, strings.Join(parts, "; "))
}

// steeringPhrase sets the viewer-minutes on a degraded CDN with content
// steering beside DNS alone: what moving sessions, not only answers, did.
func (r *Result) steeringPhrase() string {
	s := &r.Summary
	for _, cf := range s.Counterfactuals {
		if cf.Without != WithoutSteering {
			continue
		}
		p := r.Scenario.Players
		return fmt.Sprintf("Content steering: %s of the viewers' players ask the steering server every %s and move mid-session; DNS alone, they follow DNS as the others do. "+
			"Viewer-minutes on a degraded CDN: with steering %s, DNS alone %s; impaired: with steering %s, DNS alone %s.",
			report.Percent(p.SteeringShare), p.SteeringTTL, report.Int(s.ViewerMinutesFaulted), report.Int(cf.ViewerMinutesFaulted),
			report.Int(s.ViewerMinutesImpaired), report.Int(cf.ViewerMinutesImpaired))
	}
	return ""
}
