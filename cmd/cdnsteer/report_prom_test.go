package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	event "github.com/cdnsteer/cdnsteer/report"
	"github.com/cdnsteer/cdnsteer/sim"
)

// promWithEvent is a real Prometheus on loopback serving a recorded
// event backfilled with promtool; the test ends it.
func promWithEvent(t *testing.T, bin string, ev *recorded) string {
	t.Helper()
	promtool := os.Getenv("CDNSTEER_PROMTOOL")
	if promtool == "" {
		promtool = filepath.Join(filepath.Dir(bin), "promtool")
	}
	dir := t.TempDir()
	om := filepath.Join(dir, "event.om")
	if err := os.WriteFile(om, []byte(ev.openMetrics), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool backfill: %v\n%s", err, out)
	}
	return startPrometheus(t, bin, dir, "global:\n  scrape_interval: 15s\n", data, "--storage.tsdb.retention.time=100y")
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// TestReportAgainstRealPrometheus plays a rehearsal into a real
// Prometheus as a recorded event (promtool's backfill of OpenMetrics made
// from the run's intervals) and checks the report's numbers against the
// same data: delivered peak and p95, the bill, the answers, the traffic
// left after each degradation, and "forecast vs actual" with the
// rehearsal's own files as the forecast (the same event, so the same
// numbers). scripts/report-test.sh runs it.
func TestReportAgainstRealPrometheus(t *testing.T) {
	bin := os.Getenv("CDNSTEER_PROMETHEUS")
	if bin == "" {
		t.Skip("set CDNSTEER_PROMETHEUS=/usr/bin/prometheus (scripts/report-test.sh does)")
	}
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	ev := recordEvent(t, start)
	url := promWithEvent(t, bin, ev)
	outDir := os.Getenv("CDNSTEER_ARTIFACTS")
	if outDir == "" {
		outDir = t.TempDir()
	}
	page := filepath.Join(outDir, "event.html")
	log := filepath.Join(ev.dir, "decisions.jsonl")
	var out, errOut bytes.Buffer
	args := []string{"report", "-log", log, "-prometheus", url, "-from", start.Format(time.RFC3339), "-to", ev.end.Format(time.RFC3339),
		"-config", footballPolicy, "-scenario", ev.scenario, "-rehearsal", ev.dir, "-delivered", "sum by (cdn, region) (cdn_delivered_gbps)", "-o", page}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	t.Logf("report: %s", out.String())
	if strings.Contains(out.String(), "missing:") {
		t.Errorf("sections missing against a Prometheus holding the whole event:\n%s", out.String())
	}
	html, _ := os.ReadFile(page)
	for _, want := range []string{`id="delivered-all"`, `id="delivered-kr"`, `id="billing-samples"`, `id="answers-rate"`,
		`id="qoe-cdnsteer_qoe_segment_ttfb_ms-kr"`, `id="forecast-vs-actual"`, `id="degradation-table"`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("report lacks %s", want)
		}
	}

	meter := sim.NewMeasuredBilling(nil)
	_, traffic := readTable(t, page, "traffic-table", 2)
	_, bills := readTable(t, page, "billing-table", 1)
	_, answers := readTable(t, page, "answers-table", 1)
	_, forecast := readTable(t, page, "forecast-table", 1)
	var summary struct {
		CDNs []struct {
			CDN  string   `json:"cdn"`
			Cost *float64 `json:"cost"`
		} `json:"cdns"`
	}
	b, _ := os.ReadFile(filepath.Join(ev.dir, "summary.json"))
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.3f, want %.3f (±%g)", what, got, want, tol)
		}
	}
	for _, cdn := range []string{"akamai", "cloudfront", "edgio", "fastly"} {
		ser := ev.series(cdn)
		var pts []event.Point
		for i, v := range ser {
			pts = append(pts, event.Point{T: start.Add(time.Duration(i) * 15 * time.Second), V: v})
		}
		samples := meter.Samples(start, pts)
		row := traffic[cdn+"/all"]
		if row == nil {
			t.Fatalf("traffic table has no %s/all row", cdn)
		}
		near(cdn+" peak", cellNum(t, row[3]), slices.Max(ser), 0.06)
		p95 := sim.P95(samples)
		near(cdn+" p95", cellNum(t, row[5]), p95, 0.06)
		// The forecast (the rehearsal's files) and the actual (Prometheus)
		// are one event: every pair agrees.
		fr := forecast[cdn]
		for i := 1; i+1 < len(fr); i += 2 {
			if fr[i] != fr[i+1] {
				t.Errorf("forecast vs actual, %s column %d: %s forecast, %s actual", cdn, i, fr[i], fr[i+1])
			}
		}
		near(cdn+" answers", cellNum(t, answers[cdn][1]), ev.answers[cdn], 0.03*ev.answers[cdn]+1)
		for _, s := range summary.CDNs {
			if s.CDN == cdn && s.Cost != nil {
				// The rehearsal billed its 1 s steps, the report the 15 s
				// averages of them: the same 5-minute samples but for the
				// rounding of the output.
				near(cdn+" cost against the rehearsal's", cellNum(t, bills[cdn][8]), *s.Cost, 0.001**s.Cost)
			}
		}
	}
	// Akamai's p95 bill, from the samples as the contract reads them.
	var akamai []event.Point
	for i, v := range ev.series("akamai") {
		akamai = append(akamai, event.Point{T: start.Add(time.Duration(i) * 15 * time.Second), V: v})
	}
	p95 := sim.P95(meter.Samples(start, akamai))
	near("akamai cost", cellNum(t, bills["akamai"][8]), 1000*40+math.Max(0, p95-1000)*60, 0.06*60+0.01)
	if p95 <= 1000 {
		t.Errorf("akamai p95 %.1f: the fixture should take it over its billing commit", p95)
	}

	_, degr := readTable(t, page, "degradation-table", 3)
	checked := 0
	for _, row := range degr {
		if row[1] != "kr" || row[2] != "akamai" {
			continue
		}
		at := onDay(t, start, row[0])
		for i, after := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute} {
			want, ok := ev.delivered("kr", "akamai", at.Add(after))
			if !ok {
				continue
			}
			near(fmt.Sprintf("akamai kr %s after the degradation at %s", after, row[0]), cellNum(t, row[7+i]), want, 0.06)
			checked++
		}
	}
	if checked == 0 {
		t.Errorf("no akamai/kr degradation followed: %v", degr)
	}
}

// onDay is the clock time hh:mm:ss on start's day, or the next day when
// that is before start.
func onDay(t *testing.T, start time.Time, clock string) time.Time {
	t.Helper()
	c, err := time.Parse("15:04:05", clock)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(start.Year(), start.Month(), start.Day(), c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
	if at.Before(start) {
		at = at.AddDate(0, 0, 1)
	}
	return at
}

// TestReportBadPrometheusInput: against a real Prometheus holding the
// event, a range with no data and a query with no series leave notes in
// the sections concerned and exit 0; an empty log with no data is
// nothing usable and exits 1.
func TestReportBadPrometheusInput(t *testing.T) {
	bin := os.Getenv("CDNSTEER_PROMETHEUS")
	if bin == "" {
		t.Skip("set CDNSTEER_PROMETHEUS=/usr/bin/prometheus (scripts/report-test.sh does)")
	}
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	ev := recordEvent(t, start)
	url := promWithEvent(t, bin, ev)
	log := filepath.Join(ev.dir, "decisions.jsonl")
	dir := t.TempDir()

	var out, errOut bytes.Buffer
	early := []string{"-from", start.Add(-48 * time.Hour).Format(time.RFC3339), "-to", start.Add(-47 * time.Hour).Format(time.RFC3339)}
	page := filepath.Join(dir, "empty-range.html")
	if code := run(append([]string{"report", "-log", log, "-prometheus", url, "-o", page}, early...), &out, &errOut); code != 0 {
		t.Fatalf("empty range = %d: %s", code, errOut.String())
	}
	html, _ := os.ReadFile(page)
	for _, want := range []string{"traffic: missing: delivered Gbit/s: no series", "answers: missing: answers: no series", "qoe: missing: no cdnsteer_qoe_* series"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("empty range: output lacks %q:\n%s", want, out.String())
		}
	}
	if !bytes.Contains(html, []byte("Missing: delivered Gbit/s: no series")) || !bytes.Contains(html, []byte(`id="score-kr"`)) {
		t.Error("empty range: the page should say what is missing and keep the decision log's sections")
	}

	out.Reset()
	page = filepath.Join(dir, "no-series.html")
	if code := run([]string{"report", "-log", log, "-prometheus", url, "-delivered", "cdn_bytes_nobody_exports", "-o", page}, &out, &errOut); code != 0 {
		t.Fatalf("no series = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "traffic: missing: delivered Gbit/s: no series for cdn_bytes_nobody_exports") || strings.Contains(out.String(), "answers: missing") {
		t.Errorf("a delivered query without series: only the traffic sections go missing:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "no-series-answers-table.csv")); err != nil {
		t.Errorf("the answers still come from cdnsteer's counters: %v", err)
	}

	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o644)
	errOut.Reset()
	if code := run(append([]string{"report", "-log", empty, "-prometheus", url, "-o", filepath.Join(dir, "x.html")}, early...), &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "nothing usable") {
		t.Errorf("empty log, empty range = %d: %s", code, errOut.String())
	}
}
