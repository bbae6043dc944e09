package sim

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/cdnsteer/cdnsteer/report"
)

// page is a parsed report with lookups by id.
type page struct {
	root *html.Node
	byID map[string]*html.Node
}

func parsePage(t *testing.T, b []byte) *page {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("report does not parse: %v", err)
	}
	p := &page{root: root, byID: map[string]*html.Node{}}
	p.walk(root, func(n *html.Node) {
		if id := attr(n, "id"); id != "" {
			if p.byID[id] != nil {
				t.Errorf("duplicate id %q", id)
			}
			p.byID[id] = n
		}
	})
	return p
}

func (p *page) walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		p.walk(c, f)
	}
}

func (p *page) all(tag string) []*html.Node {
	var out []*html.Node
	p.walk(p.root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
	})
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.TrimSpace(b.String())
}

// rows returns a table's body rows as cell texts.
func (p *page) rows(t *testing.T, id string) [][]string {
	t.Helper()
	table := p.byID[id]
	if table == nil {
		t.Fatalf("no table %q", id)
	}
	var out [][]string
	p.walk(table, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "tr" && n.Parent.Data == "tbody" {
			var row []string
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				if c.Type == html.ElementNode && c.Data == "td" {
					row = append(row, text(c))
				}
			}
			out = append(out, row)
		}
	})
	return out
}

// number reads a formatted number back: "1,234.5 Gbit/s" → 1234.5.
func number(t *testing.T, s string) float64 {
	t.Helper()
	f := strings.Fields(strings.ReplaceAll(s, ",", ""))
	if len(f) == 0 {
		t.Fatalf("no number in %q", s)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("no number in %q: %v", s, err)
	}
	return v
}

func TestReportRenders(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, busy)
	res := mustRun(t, sc, nil)
	var b bytes.Buffer
	if err := report.Render(&b, res.Document()); err != nil {
		t.Fatal(err)
	}
	raw := b.String()
	for _, banned := range []string{"<script", "<link", "<img", "src=", "@import", "url("} {
		if strings.Contains(raw, banned) {
			t.Errorf("report has %q: it must stand alone", banned)
		}
	}
	p := parsePage(t, b.Bytes())

	// Every chart is an inline SVG with drawn data.
	svgs := map[string]*html.Node{}
	for _, n := range p.all("svg") {
		svgs[attr(n, "id")] = n
	}
	for _, id := range []string{"utilisation", "delivered", "viewers", "impaired", "score-kr", "score-default", "split-kr", "split-default"} {
		n := svgs[id]
		if n == nil {
			t.Errorf("no chart %q (have %d charts)", id, len(svgs))
			continue
		}
		drawn := 0
		p.walk(n, func(c *html.Node) {
			if c.Type == html.ElementNode && (c.Data == "polyline" || c.Data == "polygon") && len(attr(c, "points")) > 20 {
				drawn++
			}
		})
		if drawn == 0 {
			t.Errorf("chart %q draws no series", id)
		}
	}

	// The headline figures are the series' numbers (every step is an
	// interval here, so the series is at full resolution).
	peak, vm := 0.0, 0.0
	for _, iv := range res.Series.Intervals {
		peak = math.Max(peak, iv.Audience)
		for _, c := range iv.CDNs {
			vm += c.Impaired * sc.Step.Minutes()
		}
	}
	figure := func(id string) float64 {
		n := p.byID["fig-"+id]
		if n == nil {
			t.Fatalf("no figure %q", id)
		}
		v, err := strconv.ParseFloat(attr(n, "data-value"), 64)
		if err != nil {
			t.Fatalf("figure %q: %v", id, err)
		}
		return v
	}
	if got := figure("peak-audience"); got != peak {
		t.Errorf("peak audience figure %g, series peak %g", got, peak)
	}
	if got := figure("viewer-minutes-impaired"); math.Abs(got-vm) > 1e-6*vm || vm == 0 {
		t.Errorf("viewer-minutes impaired figure %g, series say %g", got, vm)
	}

	// The capacity table: peak Gbit/s and minutes over commit per CDN.
	rows := p.rows(t, "capacity-table")
	if len(rows) != len(sc.CDNs) {
		t.Fatalf("capacity table has %d rows", len(rows))
	}
	for ci, c := range sc.CDNs {
		peakGbps, over := 0.0, 0.0
		for _, iv := range res.Series.Intervals {
			peakGbps = math.Max(peakGbps, iv.CDNs[ci].DeliveredGbps)
			if iv.CDNs[ci].DeliveredGbps > c.CommitGbps {
				over += sc.Step.Minutes()
			}
		}
		row := rows[ci]
		if row[0] != c.Name || math.Abs(number(t, row[4])-peakGbps) > 0.051 || math.Abs(number(t, row[7])-over) > 0.051 {
			t.Errorf("capacity row %v: want peak %.1f Gbit/s, %.1f min over commit", row, peakGbps, over)
		}
		if want := res.Summary.CDNs[ci].SaturationAudience; math.Abs(number(t, row[9])-want) > 0.5 {
			t.Errorf("capacity row %v: saturation point, want %.0f", row, want)
		}
	}
	if c := res.Summary.CDNs[2]; c.MinutesOverCommit == 0 || c.PeakUtilisation <= 1 {
		t.Errorf("c should go over its commit in this scenario: %+v", c)
	}

	// One row per fault and drain, with its shift.
	faults := p.rows(t, "fault-table")
	if len(faults) != 3 || faults[2][1] != "drain" || faults[2][6] != "0 s" {
		t.Errorf("fault rows %v", faults)
	}
	// The decision log sections are there too.
	if p.byID["degraded"] == nil || p.byID["annotation-table"] == nil || p.byID["override-table"] == nil {
		t.Error("the timeline tables are missing")
	}
	if !strings.Contains(text(p.byID["annotation-table"]), "goal") {
		t.Error("the annotation is not in the report")
	}
}
