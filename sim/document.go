package sim

import (
	"fmt"
	"strings"

	"github.com/cdnsteer/cdnsteer/report"
)

// Document is the run as a report: the capacity and fault summaries,
// charts of the audience and the traffic, then the engine's decisions in
// the same sections a post-event report shows.
func (r *Result) Document() *report.Document {
	sc, s := r.Scenario, &r.Summary
	worst, over := 0, 0.0
	for i, c := range s.CDNs {
		if c.PeakUtilisation > s.CDNs[worst].PeakUtilisation {
			worst = i
		}
		over += c.MinutesOverCommit
	}
	doc := &report.Document{
		Title: sc.Name,
		Subtitle: fmt.Sprintf("Rehearsal of policy %q from %s UTC for %s, step %s, seed %d: the real health engine and selection, in virtual time.",
			sc.Policy.Name, sc.Start.UTC().Format("2006-01-02 15:04"), report.Duration(sc.Duration), sc.Step, sc.Seed),
		Figures: []report.Figure{
			{ID: "peak-audience", Label: "Peak audience", Value: report.Int(float64(s.PeakAudience)), Raw: float64(s.PeakAudience),
				Note: "at " + report.Clock(sc.Start.Add(s.PeakAudienceAt.D()))},
			{ID: "viewer-minutes-impaired", Label: "Viewer-minutes impaired", Value: report.Int(s.ViewerMinutesImpaired), Raw: s.ViewerMinutesImpaired,
				Note: fmt.Sprintf("faulted %s, saturated %s", report.Int(s.ViewerMinutesFaulted), report.Int(s.ViewerMinutesSaturated))},
			{ID: "peak-impaired", Label: "Peak viewers impaired", Value: report.Int(float64(s.PeakImpaired)), Raw: float64(s.PeakImpaired)},
			{ID: "worst-commit", Label: "Highest load vs commit", Value: report.Percent(s.CDNs[worst].PeakUtilisation), Raw: s.CDNs[worst].PeakUtilisation,
				Note: s.CDNs[worst].CDN},
			{ID: "minutes-over-commit", Label: "CDN-minutes over commit", Value: report.Fixed(over, 1), Raw: over},
			{ID: "degradations", Label: "Degradations", Value: report.Int(float64(s.Degradations)), Raw: float64(s.Degradations),
				Note: fmt.Sprintf("%s split moves", report.Int(float64(s.Shifts)))},
		},
	}
	doc.Sections = append(doc.Sections, r.capacitySection())
	if s.billed() {
		doc.Figures = append(doc.Figures, r.costFigure())
		doc.Sections = append(doc.Sections, r.billingSection())
	}
	doc.Sections = append(doc.Sections, r.audienceSection(), r.faultSection())
	if len(s.Counterfactuals) > 0 {
		doc.Figures = append(doc.Figures, r.compareFigures()...)
		doc.Sections = append(doc.Sections, r.compareSection())
	}
	tl := report.Analyze(r.Decisions, sc.Start.Add(sc.Duration))
	doc.Sections = append(doc.Sections, report.TimelineSections(tl)...)
	doc.Sections = append(doc.Sections, r.scenarioSection())
	return doc
}

func (r *Result) cdnNames() []string { return r.Series.CDNs }

func (r *Result) color(cdn string) string { return report.CDNColor(r.cdnNames(), cdn) }

// bands shades the scripted faults and drains on the traffic charts.
func (r *Result) bands() []report.Band {
	sc := r.Scenario
	var out []report.Band
	for _, f := range r.Summary.Faults {
		out = append(out, report.Band{From: sc.Start.Add(f.Start.D()), To: sc.Start.Add(f.End.D()), Label: f.Name, Color: r.color(f.CDN)})
	}
	return out
}

func (r *Result) marks() []report.Mark {
	var out []report.Mark
	for _, n := range r.Scenario.Notes {
		out = append(out, report.Mark{T: r.Scenario.Start.Add(n.At), Label: n.Text})
	}
	return out
}

func (r *Result) chart(id, title, unit string) *report.Chart {
	sc := r.Scenario
	return &report.Chart{ID: id, Title: title, Unit: unit, Start: sc.Start, End: sc.Start.Add(sc.Duration), Bands: r.bands(), Marks: r.marks()}
}

// perCDN is one series per CDN of a value of each interval's totals.
func (r *Result) perCDN(v func(t *CDNTotal, ci int) float64) []report.Series {
	var out []report.Series
	for ci, name := range r.cdnNames() {
		s := report.Series{Name: name, Color: r.color(name)}
		for _, iv := range r.Series.Intervals {
			s.Points = append(s.Points, report.Point{T: iv.Time, V: v(&iv.CDNs[ci], ci)})
		}
		out = append(out, s)
	}
	return out
}

func (r *Result) capacitySection() report.Section {
	sc, s := r.Scenario, &r.Summary
	sec := report.Section{ID: "capacity", Title: "Capacity and commits", Paragraphs: []string{
		"Saturation point: the audience at which the policy's baseline split, with this region mix and these bitrates, would fill the CDN's commit (demand grows linearly with the audience, so it is the commit divided by the CDN's Gbit/s per viewer). " +
			fmt.Sprintf("The engine starts taking new traffic from a CDN at %s of the commit the policy declares; the simulated columns say when the run actually got there. ", report.Percent(sc.Policy.Params.CapacitySoft)) +
			"The two differ where the engine moved traffic, and where the resolver population is lumpy: a big resolver without ECS takes all its viewers to one CDN.",
	}}
	t := &report.Table{ID: "capacity-table", Caption: "Peak per CDN against its commit",
		Head: []string{"cdn", "commit Gbit/s", "ceiling Gbit/s", "baseline share", "peak Gbit/s", "peak vs commit", "at", "min over commit",
			"baseline at peak audience", "saturation point (viewers)", "reached commit at", "shedding from", "shedding began at"},
		Numeric: []bool{false, true, true, true, true, true, false, true, true, true, true, true, true}}
	for _, c := range s.CDNs {
		t.Rows = append(t.Rows, r.capacityRow(c.CDN, c))
	}
	sec.Blocks = append(sec.Blocks, report.Block{Table: t})
	if len(s.Regional) > 0 {
		rt := &report.Table{ID: "regional-capacity-table", Caption: "Regional commits (PoP capacity the policy does not know; only the service measured there tells the engine)",
			Head:    t.Head[:10],
			Numeric: t.Numeric[:10]}
		for _, c := range s.Regional {
			rt.Rows = append(rt.Rows, r.capacityRow(c.CDN+" "+c.Region, c)[:10])
		}
		sec.Blocks = append(sec.Blocks, report.Block{Table: rt})
	}
	util := r.chart("utilisation", "Delivered traffic against commit", "% of commit")
	util.Series = r.perCDN(func(t *CDNTotal, _ int) float64 { return 100 * t.Utilisation })
	util.Refs = []report.Ref{{V: 100, Label: "commit"}, {V: 100 * sc.Policy.Params.CapacitySoft, Label: "shedding starts", Color: "#999"}}
	gbps := r.chart("delivered", "Delivered traffic by CDN", "Gbit/s")
	gbps.Stacked = true
	gbps.Series = r.perCDN(func(t *CDNTotal, _ int) float64 { return t.DeliveredGbps })
	sec.Blocks = append(sec.Blocks, report.Block{Chart: util}, report.Block{Chart: gbps})
	return sec
}

func (r *Result) capacityRow(name string, c CapacitySummary) []string {
	sc := r.Scenario
	aud := func(v float64) string {
		if v <= 0 {
			return "never"
		}
		return report.Int(v)
	}
	commit, ceiling := "unknown", "none"
	if c.CommitGbps > 0 {
		commit = report.Fixed(c.CommitGbps, 0)
	}
	if c.CeilingGbps > 0 {
		ceiling = report.Fixed(c.CeilingGbps, 0)
	}
	peakVs, baseVs := "—", "—"
	if c.CommitGbps > 0 {
		peakVs, baseVs = report.Percent(c.PeakUtilisation), report.Percent(c.BaselinePeakUtilisation)
	}
	reached := "not reached"
	if c.ObservedSaturation > 0 {
		reached = report.Int(float64(c.ObservedSaturation)) + " (" + report.Clock(sc.Start.Add(c.ObservedSaturationAt.D())) + ")"
	}
	shed, shedAt := "—", "—"
	if c.SheddingAudience > 0 {
		shed, shedAt = report.Int(c.SheddingAudience), "not reached"
		if c.ObservedShedding > 0 {
			shedAt = report.Int(float64(c.ObservedShedding))
		}
	}
	return []string{name, commit, ceiling, report.Percent(c.BaselineShare), report.Fixed(c.PeakGbps, 1), peakVs,
		report.Clock(sc.Start.Add(c.PeakAt.D())) + ", " + report.Int(float64(c.PeakAudience)) + " viewers",
		report.Fixed(c.MinutesOverCommit, 1), baseVs, aud(c.SaturationAudience), reached, shed, shedAt}
}

func (r *Result) audienceSection() report.Section {
	sc, s := r.Scenario, &r.Summary
	sec := report.Section{ID: "audience", Title: "Audience"}
	var phases []string
	for _, p := range sc.Curve.Phases {
		phases = append(phases, fmt.Sprintf("%s (%s, %s)", p.Name, p.Shape, report.Clock(sc.Start.Add(p.Start))))
	}
	if len(phases) > 0 {
		sec.Paragraphs = append(sec.Paragraphs, "Phases: "+strings.Join(phases, "; ")+".")
	}
	viewers := r.chart("viewers", "Concurrent viewers by CDN", "viewers")
	viewers.Stacked = true
	viewers.Series = r.perCDN(func(t *CDNTotal, _ int) float64 { return t.Viewers })
	t := &report.Table{ID: "region-table", Caption: "Regions", Head: []string{"region", "share", "bitrate", "peak viewers", "viewer-minutes impaired"},
		Numeric: []bool{false, true, true, true, true}}
	for ri, rs := range s.Regions {
		if rs.Share == 0 {
			continue
		}
		t.Rows = append(t.Rows, []string{rs.Region, report.Percent(rs.Share), report.Fixed(sc.Regions[ri].BitrateMbps, 1) + " Mbit/s",
			report.Int(float64(rs.PeakViewers)), report.Int(rs.ViewerMinutesImpaired)})
	}
	sec.Blocks = append(sec.Blocks, report.Block{Chart: viewers}, report.Block{Table: t})
	return sec
}

func (r *Result) faultSection() report.Section {
	sc, s := r.Scenario, &r.Summary
	p := sc.Policy.Params
	sec := report.Section{ID: "faults", Title: "Faults and drains", Paragraphs: []string{
		"Shift: time from the start until the CDN's live share of new answers (in the affected regions) fell to half of what it had. " +
			"Moved: time until 90 % of the viewers it had at the start had left it; resolvers that stretch TTLs keep theirs longer. " +
			fmt.Sprintf("With this policy a CDN is degraded after %d evaluations below %g, every %s.", p.DownAfter, p.DownThreshold, p.EvalInterval),
	}}
	t := &report.Table{ID: "fault-table", Caption: "How the policy answered each fault",
		Head:    []string{"fault", "kind", "cdn", "region", "from", "to", "shift after", "90 % moved after", "lowest share kept", "viewers at start", "viewer-minutes impaired"},
		Numeric: []bool{false, false, false, false, false, false, true, true, true, true, true}}
	after := func(d *Seconds) string {
		if d == nil {
			return "no shift"
		}
		return report.Duration(d.D())
	}
	for _, f := range s.Faults {
		t.Rows = append(t.Rows, []string{f.Name, f.Kind, f.CDN, orAll(f.Region), report.Clock(sc.Start.Add(f.Start.D())), report.Clock(sc.Start.Add(f.End.D())),
			after(f.ShiftAfter), after(f.MovedAfter), report.Percent(f.LowestShare), report.Int(float64(f.ViewersAtStart)), report.Int(f.ViewerMinutesImpaired)})
	}
	if len(s.Faults) == 0 {
		sec.Paragraphs = append(sec.Paragraphs, "The scenario scripts no faults.")
	} else {
		sec.Blocks = append(sec.Blocks, report.Block{Table: t})
	}
	impaired := r.chart("impaired", "Viewers on a faulted or saturated CDN", "viewers")
	impaired.Stacked = true
	impaired.Series = r.perCDN(func(t *CDNTotal, _ int) float64 { return t.Impaired })
	sec.Blocks = append(sec.Blocks, report.Block{Chart: impaired})
	return sec
}

func (r *Result) scenarioSection() report.Section {
	sc := r.Scenario
	tm := sc.Telemetry
	sec := report.Section{ID: "scenario", Title: "Scenario and population", Paragraphs: []string{
		fmt.Sprintf("%s cached answers simulated (resolvers without ECS, and the client subnets of those that send it); %s of them behind resolvers that stretch TTLs. The policy's TTL is %s.",
			report.Int(float64(r.Groups)), report.Int(float64(r.Stretching)), sc.Policy.TTL),
		fmt.Sprintf("Telemetry every %s: TTFB, errors and cache hits per CDN and region, %s late, %s; delivered throughput per CDN, %s late%s. The engine evaluates every %s.",
			tm.Interval, tm.Delay, tm.noisePhrase(), tm.ThroughputDelay, tm.stampPhrase(), sc.Policy.Params.EvalInterval),
	}}
	t := &report.Table{ID: "population-table", Caption: "Resolver population",
		Head:    []string{"region", "share", "resolvers", "send ECS", "subnets each", "stretch TTLs", "kept for"},
		Numeric: []bool{false, true, true, true, true, true, false}}
	for _, rg := range sc.Regions {
		if rg.Share == 0 {
			continue
		}
		t.Rows = append(t.Rows, []string{rg.Name, report.Percent(rg.Share), report.Int(float64(rg.Resolvers)), report.Percent(rg.ECSShare),
			report.Int(float64(rg.ECSSubnets)), report.Percent(rg.StretchShare), rg.StretchTTL.String()})
	}
	sec.Blocks = []report.Block{{Table: t}}
	return sec
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}
