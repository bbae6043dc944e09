package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReportFromSimulatedLog(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "-config", "../../zones/examples/football.toml", "-scenario", writeScenario(t, shortMatch), "-o", dir}, &out, &errOut); code != 0 {
		t.Fatalf("simulate = %d: %s", code, errOut.String())
	}
	// A crash mid-write leaves a partial last line: it is skipped, not
	// fatal.
	log := filepath.Join(dir, "decisions.jsonl")
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-`)
	f.Close()
	page := filepath.Join(dir, "event.html")
	out.Reset()
	if code := run([]string{"report", "-log", log, "-o", page}, &out, &errOut); code != 0 {
		t.Fatalf("report = %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "(1 lines skipped)") {
		t.Errorf("output: %s", out.String())
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{"Post-event report", `<svg class="chart" id="score-kr"`, `<svg class="chart" id="split-kr"`, "kick-off", "drain", "akamai", "degraded", "1 lines of the log did not parse"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestReportErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"report", "-log", "x.jsonl"}, &out, &errOut); code != 2 {
		t.Errorf("missing -o = %d", code)
	}
	dir := t.TempDir()
	if code := run([]string{"report", "-log", filepath.Join(dir, "none.jsonl"), "-o", filepath.Join(dir, "r.html")}, &out, &errOut); code != 1 {
		t.Errorf("missing log = %d", code)
	}
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o644)
	errOut.Reset()
	if code := run([]string{"report", "-log", empty, "-o", filepath.Join(dir, "r.html")}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "holds no decisions") {
		t.Errorf("empty log = %d: %s", code, errOut.String())
	}
}
