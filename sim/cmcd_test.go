package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// qoePolicy is three CDNs in Korea and elsewhere, with no commits: load
// moves nothing, so what moves is the players' rebuffering alone.
const qoePolicy = `
[regions]
kr = ["KR"]
default = ["*"]
[cdn.a]
target = "a.example.net."
[cdn.b]
target = "b.example.net."
[cdn.c]
target = "c.example.net."
[policy.live]
ttl = 20
[policy.live.region.kr]
weights = { a = 30, b = 40, c = 30 }
[policy.live.region.default]
weights = { a = 50, b = 25, c = 25 }
`

// qoeScenario is 100,000 viewers for 20 minutes, krShare of them in
// Korea, where b's players rebuffer at 12 % from 5m to 15m while its
// TTFB, errors and cache hits stay as they were; cmcdShare of the
// players report CMCD.
func qoeScenario(krShare, cmcdShare string) string {
	return strings.NewReplacer("KR", krShare, "CMCD", cmcdShare).Replace(`
duration = "20m"
step = "1s"
[audience]
points = [{ at = "0m", viewers = 100000 }, { at = "20m", viewers = 100000 }]
[region.kr]
share = KR
[region.default]
share = 1
[telemetry]
interval = "1s"
[qoe]
cmcd_share = CMCD
[[fault]]
name = "b's Korean players rebuffer"
cdn = "b"
region = "kr"
start = "5m"
end = "15m"
rebuffer_ratio = 0.12
`)
}

const faultStart, faultEnd = 5 * time.Minute, 15 * time.Minute

// qoeRun runs the scenario and returns its result and, at each step of
// the fault, b's reporting sessions and live weight in Korea.
func qoeRun(t *testing.T, krShare, cmcdShare string) (*Result, []float64, []float64) {
	t.Helper()
	snap := mustPolicy(t, qoePolicy)
	sc := mustScenario(t, snap, qoeScenario(krShare, cmcdShare))
	cfg := snap.Health()
	kr, b := cfg.RegionIndex("kr"), cfg.CDNIndex("b")
	var reporting, weights []float64
	res := mustRun(t, sc, func(st *Step) {
		if st.Elapsed >= faultStart && st.Elapsed < faultEnd {
			reporting = append(reporting, float64(st.Viewers[kr][b])*sc.QoE.CMCDShare)
			weights = append(weights, st.Weights[kr][b])
		}
	})
	return res, reporting, weights
}

func degradedAt(ds []health.Decision, cdn, region string) []time.Time {
	var out []time.Time
	for _, d := range ds {
		if d.Kind == health.DecisionState && d.To == string(health.Degraded) && d.CDN == cdn && d.Region == region {
			out = append(out, d.Time)
		}
	}
	return out
}

func faultOn(t *testing.T, res *Result) FaultSummary {
	t.Helper()
	for _, f := range res.Summary.Faults {
		if f.CDN == "b" && f.Region == "kr" {
			return f
		}
	}
	t.Fatal("no summary of b's fault in kr")
	return FaultSummary{}
}

// A CDN's players rebuffering in one region, nothing else changing: with
// half of them reporting CMCD the engine degrades it there within the
// usual reaction time (a report interval for the players to report the
// stalls, down_after evaluations), and the viewer-minutes on it during
// the fault fall; without CMCD nothing sees it.
func TestCMCDRebufferingDegradesTheCDN(t *testing.T) {
	without, _, _ := qoeRun(t, "1", "0")
	if n := without.Summary.Degradations; n != 0 {
		t.Fatalf("without CMCD: %d degradations; the fault must be invisible to the other signals", n)
	}
	with, reporting, _ := qoeRun(t, "1", "0.5")
	if reporting[0] < 10000 {
		t.Fatalf("b has %.0f reporting sessions in kr at the fault's start; the test needs a large audience", reporting[0])
	}
	start := with.Scenario.Start.Add(faultStart)
	ds := degradedAt(with.Decisions, "b", "kr")
	if len(ds) == 0 {
		t.Fatal("with CMCD: b never degraded in kr")
	}
	reaction := ds[0].Sub(start)
	limit := with.Scenario.QoE.ReportInterval + time.Duration(with.Scenario.Policy.Params.DownAfter+2)*with.Scenario.Policy.Params.EvalInterval
	if reaction < 0 || reaction > limit {
		t.Errorf("b degraded in kr %s after its players began rebuffering, want 0..%s", reaction, limit)
	}
	if got := degradedAt(with.Decisions, "b", "default"); len(got) != 0 {
		t.Errorf("b degraded in default, where its players are fine: %v", got)
	}
	for _, cdn := range []string{"a", "c"} {
		for _, reg := range []string{"kr", "default"} {
			if got := degradedAt(with.Decisions, cdn, reg); len(got) != 0 {
				t.Errorf("%s degraded in %s: %v", cdn, reg, got)
			}
		}
	}
	fw, fo := faultOn(t, with), faultOn(t, without)
	if fw.MovedAfter == nil {
		t.Fatal("with CMCD: b's viewers in kr never left")
	}
	t.Logf("b in kr: degraded after %s; viewer-minutes on it during the fault %.0f with CMCD, %.0f without; 90 %% moved after %s",
		reaction, fw.ViewerMinutesOn, fo.ViewerMinutesOn, fw.MovedAfter.D())
	if fw.ViewerMinutesOn > 0.25*fo.ViewerMinutesOn {
		t.Errorf("viewer-minutes on b in kr during the fault: %.0f with CMCD, %.0f without; want at most a quarter", fw.ViewerMinutesOn, fo.ViewerMinutesOn)
	}
}

// The same fault where b has a handful of reporting players in Korea
// (its audience elsewhere large and healthy) moves nothing: too few
// sessions to speak for the region, and the CDN as a whole is fine.
func TestCMCDFewSessionsMoveNothing(t *testing.T) {
	without, _, base := qoeRun(t, "0.0002", "0")
	with, reporting, weights := qoeRun(t, "0.0002", "0.5")
	most := 0.0
	for _, n := range reporting {
		most = max(most, n)
	}
	if most < 1 || most > 10 {
		t.Fatalf("b has up to %.1f reporting sessions in kr during the fault; the test needs a handful", most)
	}
	t.Logf("b in kr: up to %.1f reporting sessions during the fault", most)
	if got := degradedAt(with.Decisions, "b", "kr"); len(got) != 0 {
		t.Fatalf("%.0f reporting sessions rebuffering degraded b in kr at %v", most, got)
	}
	for i := range weights {
		if weights[i] != base[i] {
			t.Fatalf("%s into the fault b's weight in kr is %g with CMCD, %g without", time.Duration(i)*time.Second, weights[i], base[i])
		}
	}
	if w, wo := faultOn(t, with).ViewerMinutesOn, faultOn(t, without).ViewerMinutesOn; w != wo {
		t.Errorf("viewer-minutes on b in kr during the fault: %g with CMCD, %g without", w, wo)
	}
}

// [qoe] and a fault's QoE keys: defaults that change nothing, ranges
// checked at their line, a fault of rebuffering alone accepted.
func TestQoEKeys(t *testing.T) {
	snap := mustPolicy(t, qoePolicy)
	sc := mustScenario(t, snap, `[audience]
points = [{ at = "0m", viewers = 10 }, { at = "10m", viewers = 10 }]
[[fault]]
cdn = "b"
start = "1m"
end = "2m"
startup_ms = 4000
`)
	want := QoE{RebufferRatio: DefaultRebufferRatio, StartupMs: DefaultStartupMs, ReportInterval: DefaultReportInterval,
		Collector: sc.QoE.Collector}
	if sc.QoE != want || sc.QoE.Collector.Window != 30*time.Second || sc.QoE.Collector.Sample != 1 {
		t.Errorf("defaults: %+v", sc.QoE)
	}
	if newCMCDFeed(sc) != nil {
		t.Error("a scenario without cmcd_share feeds a collector")
	}
	if f := sc.Faults[0]; f.StartupMs != 4000 || f.Name != "b all regions: start-up 4000 ms" {
		t.Errorf("fault %+v", f)
	}
	_, err := ParseScenario("s.toml", []byte(`[audience]
points = [{ at = "0m", viewers = 10 }, { at = "10m", viewers = 10 }]
[qoe]
cmcd_share = 1.5
report_interval = "500ms"
[[fault]]
cdn = "b"
start = "1m"
end = "2m"
rebuffer_ratio = 2
`), snap)
	for _, w := range []string{
		`s.toml:4: cmcd_share = 1.5 is outside 0..1`,
		`s.toml:5: report_interval = 500ms is outside 1s..10m`,
		`s.toml:10: rebuffer_ratio = 2 is outside 0..1`,
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("errors lack %q:\n%v", w, err)
		}
	}
}

// The football example with CMCD is the football example but for its
// name, [qoe] and one fault only the players see: the README's numbers
// compare the two.
func TestFootballQoEExample(t *testing.T) {
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := LoadScenario("../zones/examples/football-qoe-scenario.toml", snap)
	if err != nil {
		t.Fatal(err)
	}
	base := footballScenario(t)
	if sc.QoE.CMCDShare != 0.5 || len(sc.Faults) != len(base.Faults)+1 {
		t.Fatalf("cmcd_share %g, %d faults", sc.QoE.CMCDShare, len(sc.Faults))
	}
	f := sc.Faults[len(sc.Faults)-1]
	if f.CDN != "cloudfront" || f.Region != "eu" || f.RebufferRatio != 0.12 || f.TTFBAddMs != 0 || f.ErrorRate != 0 || f.CacheHit != 1 {
		t.Errorf("the players' fault: %+v", f)
	}
	v := *sc
	v.File, v.Name, v.QoE, v.Faults = base.File, base.Name, base.QoE, base.Faults
	if !reflect.DeepEqual(&v, base) {
		t.Error("football-qoe-scenario.toml differs from football-scenario.toml in more than [qoe] and its fault")
	}
}
