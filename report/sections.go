package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cdnsteer/cdnsteer/health"
)

// MaxStateRows bounds the table of status changes: past a few hundred
// rows nobody reads it, and the log has them all.
const MaxStateRows = 300

// CDNColor is the colour of cdn among cdns (sorted names): the same in
// every chart of both kinds of report.
func CDNColor(cdns []string, cdn string) string {
	for i, c := range cdns {
		if c == cdn {
			return Palette(i)
		}
	}
	return "#7f7f7f"
}

// TimelineSections turns a decision log's timeline into report sections:
// degraded time and split moves per region, scores and live splits over
// time, overrides, annotations and every status change.
func TimelineSections(tl *Timeline) []Section {
	return []Section{
		tl.overview(),
		tl.scoreSection(),
		tl.splitSection(),
		tl.overrideSection(),
		tl.planSection(),
		tl.annotationSection(),
		tl.escalationSection(),
		tl.changeSection(),
	}
}

func (tl *Timeline) regionLabel(rk RegionKey) string {
	if len(tl.Policies) > 1 {
		return rk.Policy + "/" + rk.Region
	}
	return rk.Region
}

// DegradedTable is time degraded and degradations per region and CDN,
// with the number of split moves per region.
func (tl *Timeline) DegradedTable() *Table {
	t := &Table{ID: "degraded", Caption: "Time each CDN spent degraded (number of times it was declared degraded)", Head: []string{"region"}}
	for _, cdn := range tl.CDNs {
		t.Head = append(t.Head, cdn)
		t.Numeric = append(t.Numeric, false)
	}
	t.Numeric = append([]bool{false}, t.Numeric...)
	t.Head = append(t.Head, "split moves")
	t.Numeric = append(t.Numeric, true)
	for _, rk := range tl.RegionKeys() {
		row := []string{tl.regionLabel(rk)}
		for _, cdn := range tl.CDNs {
			k := Key{rk.Policy, rk.Region, cdn}
			d, n := tl.DegradedTime(k), tl.Degradations[k]
			cell := "—"
			if n > 0 || d > 0 {
				cell = fmt.Sprintf("%s (%d×)", Duration(d), n)
			}
			row = append(row, cell)
		}
		row = append(row, Int(float64(tl.Shifts[rk])))
		t.Rows = append(t.Rows, row)
	}
	t.Note = "A split move is a change of a region's live split by at least 2 % of its traffic: the engine logs those, not every wobble."
	return t
}

func (tl *Timeline) overview() Section {
	states, shifts, degr := len(tl.States), 0, 0
	for _, n := range tl.Shifts {
		shifts += n
	}
	for _, n := range tl.Degradations {
		degr += n
	}
	s := Section{ID: "decisions", Title: "Decision log"}
	s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("%s decisions from %s to %s UTC (%s). Status changes: %s (%s to degraded); split moves: %s; overrides: %d; annotations: %d.",
		Int(float64(tl.Decisions)), tl.Start.UTC().Format("2006-01-02 15:04:05"), tl.End.UTC().Format("15:04:05"), Duration(tl.End.Sub(tl.Start)),
		Int(float64(states)), Int(float64(degr)), Int(float64(shifts)), len(tl.Overrides), len(tl.Annotations)))
	if len(tl.FailOpen) > 0 {
		var parts []string
		for _, sp := range tl.FailOpen {
			parts = append(parts, fmt.Sprintf("%s %s–%s", tl.regionLabel(RegionKey{sp.Policy, sp.Region}), Clock(sp.From), Clock(sp.To)))
		}
		s.Paragraphs = append(s.Paragraphs, "Failed open (every CDN out, baseline served): "+strings.Join(parts, "; ")+".")
	}
	if len(tl.Stale) > 0 {
		s.Paragraphs = append(s.Paragraphs, fmt.Sprintf("Telemetry went stale %d times (split held, drifting to the baseline).", len(tl.Stale)))
	}
	s.Blocks = append(s.Blocks, Block{Table: tl.DegradedTable()})
	return s
}

// marks are the annotations and restarts, for every chart.
func (tl *Timeline) marks() []Mark {
	var out []Mark
	for _, a := range tl.Annotations {
		out = append(out, Mark{a.Time, a.Text + byLabel(a.By)})
	}
	out = append(out, tl.escalationMarks()...)
	out = append(out, tl.planMarks()...)
	return append(out, tl.Restarts...)
}

// overrideBands are the overrides that apply to a region.
func (tl *Timeline) overrideBands(rk RegionKey) []Band {
	var out []Band
	for _, o := range tl.Overrides {
		ov := o.Override
		if (ov.Policy != "" && ov.Policy != rk.Policy) || (ov.Region != "" && ov.Region != rk.Region) {
			continue
		}
		label := ov.Action
		if ov.CDN != "" {
			label += " " + ov.CDN
		}
		label += byLabel(ov.By)
		out = append(out, Band{From: o.From, To: o.To, Label: label, Color: "#555"})
	}
	return out
}

func (tl *Timeline) scoreSection() Section {
	s := Section{ID: "scores", Title: "Health scores by region",
		Paragraphs: []string{"Scores as logged at every status change and in the minutely checkpoints; shaded: a CDN degraded (in its colour), an override in force (grey)."}}
	for _, rk := range tl.RegionKeys() {
		c := &Chart{ID: "score-" + slug(tl.regionLabel(rk)), Title: "Scores, " + tl.regionLabel(rk), Unit: "score", YMax: 100,
			Start: tl.Start, End: tl.End, Marks: tl.marks()}
		for _, cdn := range tl.CDNs {
			k := Key{rk.Policy, rk.Region, cdn}
			col := CDNColor(tl.CDNs, cdn)
			if pts := tl.Scores[k]; len(pts) > 0 {
				c.Series = append(c.Series, Series{Name: cdn, Color: col, Points: pts})
			}
			for _, sp := range tl.DegradedSpans(k) {
				c.Bands = append(c.Bands, Band{From: sp.From, To: sp.To, Label: cdn + " degraded", Color: col})
			}
		}
		c.Bands = append(c.Bands, tl.overrideBands(rk)...)
		for _, sp := range tl.FailOpen {
			if sp.Policy == rk.Policy && sp.Region == rk.Region {
				c.Bands = append(c.Bands, Band{From: sp.From, To: sp.To, Label: "fail open", Color: "#000"})
			}
		}
		if len(c.Series) > 0 {
			s.Blocks = append(s.Blocks, Block{Chart: c})
		}
	}
	return s
}

func (tl *Timeline) splitSection() Section {
	s := Section{ID: "split", Title: "Live split by region",
		Paragraphs: []string{"Each CDN's share of the region's new answers after every logged move, stacked to 100 %."}}
	for _, rk := range tl.RegionKeys() {
		hist := tl.Shares[rk]
		if len(hist) == 0 {
			continue
		}
		c := &Chart{ID: "split-" + slug(tl.regionLabel(rk)), Title: "Live split, " + tl.regionLabel(rk), Unit: "% of new answers",
			YMax: 100, Stacked: true, Steps: true, Start: tl.Start, End: tl.End, Marks: tl.marks(), Bands: tl.overrideBands(rk)}
		for _, cdn := range tl.CDNs {
			ser := Series{Name: cdn, Color: CDNColor(tl.CDNs, cdn)}
			for _, h := range hist {
				ser.Points = append(ser.Points, Point{h.T, 100 * h.Shares[cdn]})
			}
			ser.Points = append(ser.Points, Point{tl.End, 100 * hist[len(hist)-1].Shares[cdn]})
			c.Series = append(c.Series, ser)
		}
		s.Blocks = append(s.Blocks, Block{Chart: c})
	}
	return s
}

func (tl *Timeline) overrideSection() Section {
	s := Section{ID: "overrides", Title: "Overrides"}
	if len(tl.Overrides) == 0 {
		s.Paragraphs = []string{"No operator overrides."}
		return s
	}
	t := &Table{ID: "override-table", Head: []string{"set", "until", "action", "policy", "region", "cdn", "by", "reason", "ended"}}
	for _, o := range tl.Overrides {
		ov := o.Override
		ended := o.Ended
		if ended == "" {
			ended = "in force at the end of the log"
		}
		t.Rows = append(t.Rows, []string{Clock(o.From), Clock(o.To), ov.Action, orAll(ov.Policy), orAll(ov.Region), orAll(ov.CDN), byCell(ov.By), ov.Reason, ended})
	}
	s.Blocks = []Block{{Table: t}}
	return s
}

func (tl *Timeline) annotationSection() Section {
	s := Section{ID: "annotations", Title: "Annotations"}
	if len(tl.Annotations) == 0 {
		s.Paragraphs = []string{"No annotations."}
		return s
	}
	t := &Table{ID: "annotation-table", Head: []string{"time", "by", "note", "tags"}}
	for _, a := range tl.Annotations {
		t.Rows = append(t.Rows, []string{Clock(a.Time), byCell(a.By), a.Text, strings.Join(a.Tags, ", ")})
	}
	s.Blocks = []Block{{Table: t}}
	return s
}

func (tl *Timeline) changeSection() Section {
	s := Section{ID: "changes", Title: "Status changes"}
	if len(tl.States) == 0 {
		s.Paragraphs = []string{"No CDN changed status."}
		return s
	}
	t := &Table{ID: "change-table", Head: []string{"time", "region", "cdn", "from", "to", "score", "reason"}, Numeric: []bool{false, false, false, false, false, true}}
	states := append([]health.Decision(nil), tl.States...)
	sort.SliceStable(states, func(i, j int) bool { return states[i].Time.Before(states[j].Time) })
	for i, d := range states {
		if i == MaxStateRows {
			t.Note = fmt.Sprintf("… and %d more in the decision log.", len(states)-MaxStateRows)
			break
		}
		score := ""
		if d.Score != nil {
			score = Fixed(*d.Score, 1)
		}
		t.Rows = append(t.Rows, []string{Clock(d.Time), tl.regionLabel(RegionKey{d.Policy, d.Region}), d.CDN, d.From, d.To, score, d.Reason})
	}
	s.Blocks = []Block{{Table: t}}
	return s
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

// slug makes a name safe for an HTML id.
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}
