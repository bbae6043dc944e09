package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

var t0 = time.Date(2026, 6, 14, 11, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

func score(v float64) *float64 { return &v }

// eventLog is a short event: edgio degraded in kr for 90 s, fastly
// drained for 2 minutes, two split moves in kr and one in default.
func eventLog() []health.Decision {
	drain := &health.Override{ID: "o1", Action: health.ActionDrain, CDN: "fastly", Reason: "PoP issue", Created: at(100), Expires: at(400)}
	return []health.Decision{
		{Time: at(0), Kind: health.DecisionCheckpoint, States: []health.CDNCheckpoint{
			{Policy: "live", Region: "kr", CDN: "edgio", Score: 98, Status: health.Healthy, Ramp: 1},
			{Policy: "live", Region: "kr", CDN: "fastly", Score: 97, Status: health.Healthy, Ramp: 1},
		}},
		{Time: at(5), Kind: health.DecisionAnnotation, Annotation: &health.Annotation{ID: "n1", Time: at(5), Text: "kick-off <live>"}},
		{Time: at(30), Kind: health.DecisionState, Policy: "live", Region: "kr", CDN: "edgio", From: "healthy", To: "degraded", Score: score(41), Reason: "score 41 below 50"},
		{Time: at(30), Kind: health.DecisionWeights, Policy: "live", Region: "kr", Weights: map[string]float64{"edgio": 0, "fastly": 30}},
		{Time: at(100), Kind: health.DecisionOverride, CDN: "fastly", Override: drain},
		{Time: at(100), Kind: health.DecisionWeights, Policy: "live", Region: "default", Weights: map[string]float64{"edgio": 10, "fastly": 0}},
		{Time: at(120), Kind: health.DecisionState, Policy: "live", Region: "kr", CDN: "edgio", From: "degraded", To: "recovering", Score: score(88)},
		{Time: at(140), Kind: health.DecisionWeights, Policy: "live", Region: "kr", Weights: map[string]float64{"edgio": 3, "fastly": 30}},
		{Time: at(220), Kind: health.DecisionOverrideEnd, Override: drain, Reason: "drain o1 ended: deleted"},
		{Time: at(300), Kind: health.DecisionCheckpoint, States: []health.CDNCheckpoint{
			{Policy: "live", Region: "kr", CDN: "edgio", Score: 95, Status: health.Healthy, Ramp: 1},
		}},
	}
}

func TestAnalyze(t *testing.T) {
	tl := Analyze(eventLog(), at(600))
	if !tl.Start.Equal(at(0)) || !tl.End.Equal(at(600)) || tl.Decisions != 10 {
		t.Errorf("span %s–%s, %d decisions", tl.Start, tl.End, tl.Decisions)
	}
	edgio := Key{"live", "kr", "edgio"}
	if d := tl.DegradedTime(edgio); d != 90*time.Second {
		t.Errorf("edgio degraded %s, want 90s", d)
	}
	if tl.Degradations[edgio] != 1 || tl.Shifts[RegionKey{"live", "kr"}] != 2 || tl.Shifts[RegionKey{"live", "default"}] != 1 {
		t.Errorf("degradations %v shifts %v", tl.Degradations, tl.Shifts)
	}
	if got := tl.Status[edgio]; len(got) != 4 || got[3].Status != health.Healthy {
		t.Errorf("edgio history %v", got)
	}
	if len(tl.Overrides) != 1 || !tl.Overrides[0].To.Equal(at(220)) || tl.Overrides[0].Ended == "" {
		t.Errorf("overrides %+v", tl.Overrides)
	}
	if sh := tl.Shares[RegionKey{"live", "kr"}]; len(sh) != 2 || sh[1].Shares["edgio"] != 3.0/33 {
		t.Errorf("kr shares %+v", sh)
	}
	if strings.Join(tl.CDNs, ",") != "edgio,fastly" || strings.Join(tl.Regions, ",") != "default,kr" {
		t.Errorf("names %v %v", tl.CDNs, tl.Regions)
	}
}

// TestPostEventRenders checks that the page is well-formed (as XML, which
// is stricter than HTML needs), escapes what the log says, and has the
// charts and tables.
func TestPostEventRenders(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, PostEvent(eventLog(), 2, "decisions.jsonl")); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	body := strings.TrimPrefix(page, "<!DOCTYPE html>\n")
	// <meta> has no closing tag in HTML; close it for the XML check.
	body = strings.NewReplacer(`<meta charset="utf-8">`, `<meta charset="utf-8"/>`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`, `<meta name="viewport" content="width=device-width, initial-scale=1"/>`).Replace(body)
	d := xml.NewDecoder(strings.NewReader(body))
	d.Entity = xml.HTMLEntity
	svgs, ids := 0, map[string]bool{}
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("report is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local == "svg" {
				svgs++
			}
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					ids[a.Value] = true
				}
			}
		}
	}
	for _, id := range []string{"score-kr", "split-kr", "split-default", "degraded", "override-table", "annotation-table", "change-table", "fig-degradations", "fig-shifts"} {
		if !ids[id] {
			t.Errorf("no element %q", id)
		}
	}
	if svgs < 3 {
		t.Errorf("%d charts", svgs)
	}
	if strings.Contains(page, "kick-off <live>") || !strings.Contains(page, "kick-off &lt;live&gt;") {
		t.Error("an annotation's text is not escaped")
	}
	if !strings.Contains(page, "2 lines of the log did not parse") || !strings.Contains(page, "1 min 30 s (1×)") {
		t.Error("the skipped lines or edgio's degraded time are missing")
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Int(1800000), "1,800,000"}, {Int(-1234), "-1,234"}, {Int(999), "999"}, {Fixed(1234.56, 1), "1,234.6"},
		{Fixed(-0.01, 1), "0.0"}, {Percent(1.0123), "101.2 %"}, {Compact(1.8e6), "1.8M"}, {Compact(25000), "25k"}, {Compact(0.25), "0.25"},
		{Duration(9 * time.Second), "9 s"}, {Duration(99 * time.Second), "1 min 39 s"}, {Duration(125 * time.Minute), "2 h 05 min"},
		{Gbps(1315.56), "1,315.6 Gbit/s"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestChartEdgeCases(t *testing.T) {
	// No data, one point, and names that need escaping: all render.
	for _, c := range []*Chart{
		{ID: "empty", Title: "nothing"},
		{ID: "one", Title: "one point", Series: []Series{{Name: "a<b", Points: []Point{{at(0), 5}}}}},
		{ID: "steps", Title: "steps", Steps: true, Stacked: true, Start: at(0), End: at(60),
			Series: []Series{{Name: "x", Points: []Point{{at(0), 50}, {at(30), 20}}}, {Name: "y", Points: []Point{{at(0), 50}, {at(30), 80}}}},
			Bands:  []Band{{From: at(10), To: at(20), Label: `"band"`}}, Marks: []Mark{{at(15), "m&m"}}},
	} {
		svg := c.SVG()
		if !strings.HasPrefix(svg, `<svg class="chart" id="`+c.ID) || !strings.HasSuffix(svg, "</svg>") || strings.Contains(svg, "NaN") || strings.Contains(svg, "a<b") {
			t.Errorf("chart %s: %s", c.ID, svg)
		}
	}
}
