package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shortMatch is ten minutes of the football example's policy, small
// enough for every test run.
const shortMatch = `
name = "short match"
duration = "10m"
[audience]
points = [{ at = "0m", viewers = 100000 }, { at = "5m", viewers = 300000 }]
[region.kr]
share = 0.6
resolvers = 40
ecs_subnets = 8
[region.eu]
share = 0.4
resolvers = 30
ecs_subnets = 4
[[fault]]
cdn = "akamai"
region = "kr"
start = "2m"
end = "6m"
ttfb_add_ms = 400
[[override]]
action = "drain"
cdn = "edgio"
at = "7m"
duration = "2m"
[[annotation]]
at = "1m"
text = "kick-off"
`

func writeScenario(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.toml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSimulate(t *testing.T) {
	scenario := writeScenario(t, shortMatch)
	dir := filepath.Join(t.TempDir(), "out")
	var out, errOut bytes.Buffer
	code := run([]string{"simulate", "-config", "../../zones/examples/football.toml", "-scenario", scenario, "-o", dir, "-seed", "5", "-step", "2s"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("simulate = %d: %s", code, errOut.String())
	}
	for _, name := range []string{"intervals.csv", "cdns.csv", "intervals.json", "summary.json", "decisions.jsonl", "report.html"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if !strings.Contains(out.String(), "report: "+filepath.Join(dir, "report.html")) || !strings.Contains(out.String(), "edgio") {
		t.Errorf("output:\n%s", out.String())
	}
	// The flags win over the scenario.
	b, _ := os.ReadFile(filepath.Join(dir, "intervals.json"))
	var head struct {
		Seed  int64   `json:"seed"`
		StepS float64 `json:"step_s"`
	}
	line, _, _ := strings.Cut(string(b), "\n")
	json.Unmarshal([]byte(strings.TrimSuffix(line, `"intervals":[`)+`"x":0}`), &head)
	if head.Seed != 5 || head.StepS != 2 {
		t.Errorf("seed %d step %gs, want 5 and 2s from the flags", head.Seed, head.StepS)
	}
}

func TestSimulateErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"simulate", "-config", "../../zones/examples/football.toml"}, &out, &errOut); code != 2 {
		t.Errorf("missing flags = %d", code)
	}
	bad := writeScenario(t, "[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n[region.mars]\nshare = 1\n")
	errOut.Reset()
	if code := run([]string{"simulate", "-config", "../../zones/examples/football.toml", "-scenario", bad, "-o", t.TempDir()}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), bad+`:3: region "mars" is not in policy "match"`) {
		t.Errorf("bad scenario = %d: %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"simulate", "-config", "../../zones/examples/football.toml", "-scenario", writeScenario(t, shortMatch), "-o", t.TempDir(), "-step", "-1s"}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "step must be positive") {
		t.Errorf("negative step = %d: %s", code, errOut.String())
	}
}
