package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestReportMergesFleetLogs: two instances of a fleet log the same event
// (here one simulated log and its copy, as two instances with the same
// policy, telemetry and replicated overrides would): `report -log A -log
// B` gives one timeline in which what both logged appears once, and only
// each instance's own checkpoints and restarts twice.
func TestReportMergesFleetLogs(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "-config", "../../zones/examples/football.toml", "-scenario", writeScenario(t, shortMatch), "-o", dir}, &out, &errOut); code != 0 {
		t.Fatalf("simulate = %d: %s", code, errOut.String())
	}
	a := filepath.Join(dir, "decisions.jsonl")
	b := filepath.Join(dir, "ns2.jsonl")
	raw, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	count := func(logs ...string) int {
		args := []string{"report"}
		for _, l := range logs {
			args = append(args, "-log", l)
		}
		out.Reset()
		if code := run(append(args, "-o", filepath.Join(dir, "event.html")), &out, &errOut); code != 0 {
			t.Fatalf("report = %d: %s", code, errOut.String())
		}
		var n, skipped int
		if _, err := fmt.Sscanf(out.String(), "%d decisions (%d lines skipped)", &n, &skipped); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
		return n
	}
	one, both := count(a), count(a, b)
	if both <= one || both >= 2*one {
		t.Fatalf("one log: %d decisions; merged with its copy: %d, want more (checkpoints) but far fewer than %d", one, both, 2*one)
	}
	if code := run([]string{"report", "-log", a, "-log", filepath.Join(dir, "missing.jsonl"), "-o", filepath.Join(dir, "x.html")}, &out, &errOut); code != 1 {
		t.Fatalf("a missing second log: exit %d, want 1", code)
	}
}
