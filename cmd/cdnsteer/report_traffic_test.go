package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var fixtureStart = time.Date(2026, 6, 14, 18, 0, 0, 0, time.UTC)

// TestReportFromRehearsal: the page of a rehearsal's output alone has the
// traffic sections, and bills each CDN as the rehearsal did (summary.json,
// metered at every 1 s step) from its 15 s output.
func TestReportFromRehearsal(t *testing.T) {
	ev := recordEvent(t, fixtureStart)
	page := filepath.Join(t.TempDir(), "rehearsal.html")
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "-rehearsal", ev.dir, "-config", footballPolicy, "-scenario", ev.scenario, "-o", page}, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "answers: missing: a rehearsal counts no DNS answers") {
		t.Errorf("output: %s", out.String())
	}
	html, _ := os.ReadFile(page)
	for _, want := range []string{"Rehearsal report", `id="delivered-all"`, `id="delivered-kr"`, `id="billing-table"`, `id="degradation-table"`, `id="fig-event-cost"`} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}
	var summary struct {
		CDNs []struct {
			CDN     string  `json:"cdn"`
			P95Gbps float64 `json:"p95_gbps"`
			Cost    *float64
		} `json:"cdns"`
	}
	b, _ := os.ReadFile(filepath.Join(ev.dir, "summary.json"))
	if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	_, bills := readTable(t, page, "billing-table", 1)
	billed := 0
	for _, s := range summary.CDNs {
		row := bills[s.CDN]
		if row == nil {
			t.Fatalf("billing table has no %s", s.CDN)
		}
		if got := cellNum(t, row[3]); math.Abs(got-s.P95Gbps) > 0.06 {
			t.Errorf("%s p95 %.1f, the rehearsal's %.3f", s.CDN, got, s.P95Gbps)
		}
		if s.Cost != nil {
			billed++
			if got := cellNum(t, row[8]); math.Abs(got-*s.Cost) > 0.001**s.Cost {
				t.Errorf("%s cost %.2f, the rehearsal's %.2f", s.CDN, got, *s.Cost)
			}
		}
	}
	if billed != 2 {
		t.Errorf("%d CDNs billed, want akamai and cloudfront", billed)
	}
}

// TestReportPrometheusDown: with Prometheus not answering, each traffic
// section says so and the decision log's report is still written (exit
// 0); with an empty log as well nothing is usable (exit 1).
func TestReportPrometheusDown(t *testing.T) {
	ev := recordEvent(t, fixtureStart)
	dir := t.TempDir()
	down := "http://" + freeLoopbackPort(t) // nobody listens there now
	page := filepath.Join(dir, "down.html")
	log := filepath.Join(ev.dir, "decisions.jsonl")
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "-log", log, "-prometheus", down, "-o", page}, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	for _, sec := range []string{"traffic", "billing", "answers", "qoe", "degradations"} {
		if !strings.Contains(out.String(), sec+": missing: Prometheus at "+down+" did not answer") {
			t.Errorf("output lacks the %s section's note:\n%s", sec, out.String())
		}
	}
	html, _ := os.ReadFile(page)
	if !bytes.Contains(html, []byte("Missing: Prometheus at "+down+" did not answer")) || !bytes.Contains(html, []byte(`id="split-kr"`)) {
		t.Error("the page should say Prometheus did not answer and keep the decision log's sections")
	}
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o644)
	errOut.Reset()
	code := run([]string{"report", "-log", empty, "-prometheus", down, "-from", "2026-06-14T18:00:00Z", "-to", "2026-06-14T19:00:00Z", "-o", filepath.Join(dir, "x.html")}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "nothing usable") || !strings.Contains(errOut.String(), "did not answer") {
		t.Errorf("empty log, Prometheus down = %d: %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"report", "-log", empty, "-prometheus", down, "-o", filepath.Join(dir, "x.html")}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-from and -to are required") {
		t.Errorf("empty log without a range = %d: %s", code, errOut.String())
	}
}

// TestReportLogsOfDifferentPolicies: a fleet's logs that name different
// policies are merged all the same, and the page says so.
func TestReportLogsOfDifferentPolicies(t *testing.T) {
	ev := recordEvent(t, fixtureStart)
	dir := t.TempDir()
	log := filepath.Join(ev.dir, "decisions.jsonl")
	b, _ := os.ReadFile(log)
	other := filepath.Join(dir, "other.jsonl")
	os.WriteFile(other, bytes.ReplaceAll(b, []byte(`"policy":"match"`), []byte(`"policy":"live"`)), 0o644)
	page := filepath.Join(dir, "r.html")
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "-log", log, "-log", other, "-o", page}, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	html, _ := os.ReadFile(page)
	if !bytes.Contains(html, []byte("The logs are from different policies ("+log+": match; "+other+": live)")) {
		t.Error("the page does not say the logs are from different policies")
	}
	// The same log twice is one policy: no note.
	if code := run([]string{"report", "-log", log, "-log", log, "-o", page}, &out, &errOut); code != 0 {
		t.Fatal(errOut.String())
	}
	if html, _ := os.ReadFile(page); bytes.Contains(html, []byte("different policies")) {
		t.Error("one policy noted as different")
	}
}
