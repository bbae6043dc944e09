package sim

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// planPolicy is twoRegions with a plan that drains a in Korea.
const planPolicy = twoRegions + `
[[plan]]
name = "a-kr-out"
ttl = "1h"
overrides = [ { action = "drain", cdn = "a", region = "kr" } ]
`

// krAudience is a steady audience, all in Korea, behind honest resolvers
// that each send ECS, so that a change of answer reaches every viewer
// within one TTL.
const krAudience = `
[audience]
points = [{ at = "0m", viewers = 10000 }]
[region.kr]
share = 1
resolvers = 50
ecs_share = 1
ecs_subnets = 10
stretch_share = 0
[telemetry]
noise = 0
`

func TestPlanActivationErrors(t *testing.T) {
	snap := mustPolicy(t, planPolicy)
	head := "duration = \"10m\"\n" + strings.TrimPrefix(krAudience, "\n")
	line := strings.Count(head, "\n") + 1 // of the first [[plan_activation]]
	// line is where each error is, counted from the first
	// [[plan_activation]]: the table, or the key at fault.
	cases := []struct {
		name, doc string
		line      int
		want      string
	}{
		{"unknown plan", "[[plan_activation]]\nplan = \"a-out\"\nat = \"1m\"\n",
			1, `plan_activation 1: unknown plan "a-out" (the policy has a-kr-out)`},
		{"no plan", "[[plan_activation]]\nat = \"1m\"\n",
			0, `plan_activation 1 needs a plan`},
		{"no at", "[[plan_activation]]\nplan = \"a-kr-out\"\n",
			0, `plan_activation 1 needs at (0 or more)`},
		{"negative at", "[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"-1m\"\n",
			0, `plan_activation 1 needs at (0 or more)`},
		{"bad ttl", "[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"1m\"\nttl = \"0s\"\n",
			3, `plan_activation 1: ttl must be positive`},
		{"end before at", "[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"2m\"\nend = \"1m\"\n",
			3, `plan_activation 1 must end after it is activated`},
		{"end after expiry", "[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"1m\"\nttl = \"2m\"\nend = \"4m\"\n",
			4, `plan_activation 1: end 4m0s comes after the activation expires by itself (at + ttl = 3m0s)`},
		{"end after the plan's own ttl", "[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"1m\"\nend = \"2h\"\n",
			3, `plan_activation 1: end 2h0m0s comes after the activation expires by itself (at + ttl = 1h1m0s)`},
		{"unknown key, second activation", "[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"1m\"\n[[plan_activation]]\nplan = \"a-kr-out\"\nat = \"5m\"\nuntil = \"6m\"\n",
			6, `unknown key "plan_activation.until"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenario("s.toml", []byte(head+tc.doc), snap)
			if err == nil {
				t.Fatal("parsed")
			}
			if got, want := err.Error(), fmt.Sprintf("s.toml:%d: %s", line+tc.line, tc.want); got != want {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestPlanActivationDrainsAndEnds: a fault the scores do not see enough
// to act on (20 ms more TTFB) impairs a's Korean viewers until the plan
// drains a there; ended, the plan gives a its share back.
func TestPlanActivationDrainsAndEnds(t *testing.T) {
	snap := mustPolicy(t, planPolicy)
	doc := `duration = "10m"` + krAudience + `
[[fault]]
cdn = "a"
region = "kr"
start = "1m"
end = "9m"
ttfb_add_ms = 20
`
	plan := `
[[plan_activation]]
plan = "a-kr-out"
at = "2m"
end = "6m"
reason = "a's Korean PoPs slow"
by = "mina"
`
	var share [3]float64 // a's weight just before, during and after the plan
	res := mustRun(t, mustScenario(t, snap, doc+plan), func(st *Step) {
		switch st.Elapsed {
		case 119 * time.Second:
			share[0] = st.Weights[1][0]
		case 3 * time.Minute:
			share[1] = st.Weights[1][0]
		case 9*time.Minute + 59*time.Second:
			share[2] = st.Weights[1][0]
		}
	})
	if share[0] <= 0 || share[1] != 0 || share[2] <= 0 {
		t.Errorf("a's weight in kr before, during and after the plan: %v; want >0, 0, >0", share)
	}
	var activated, ended bool
	for _, d := range res.Decisions {
		switch {
		case d.Kind == health.DecisionPlan && d.Plan.Name == "a-kr-out" && d.Plan.By == "mina" && d.Time.Equal(res.Scenario.Start.Add(2*time.Minute)) &&
			d.Plan.Activation == "activation-1": // named in order, as overrides are, for a byte-identical log
			activated = true
		case d.Kind == health.DecisionPlanEnd && d.Plan.Name == "a-kr-out" && d.Time.Equal(res.Scenario.Start.Add(6*time.Minute)):
			ended = true
		}
	}
	if !activated || !ended {
		t.Errorf("decision log: activated %v, ended %v", activated, ended)
	}

	without := mustScenario(t, snap, doc)
	base := mustRun(t, without, nil)
	with, wo := res.Summary.ViewerMinutesImpaired, base.Summary.ViewerMinutesImpaired
	// a holds 30 % of 10,000 viewers: 3,000 × 8 min without the plan;
	// with it, 3,000 × (1 min + a TTL until they have left) + what
	// comes back to a from 6m on, about 3,000 × 3 min at most.
	t.Logf("viewer-minutes impaired: %.0f with the plan, %.0f without", with, wo)
	if wo < 0.9*24000 || with > wo-3000*3 {
		t.Errorf("viewer-minutes impaired %.0f with the plan, %.0f without; want about 24,000 without and at least 9,000 fewer with", with, wo)
	}
	// The run carries the same comparison, made alongside.
	cfs := res.Summary.Counterfactuals
	if len(cfs) != 1 || cfs[0].Without != WithoutPlans || cfs[0].ViewerMinutesImpaired != wo || cfs[0].Faults[0].ViewerMinutesImpaired != base.Summary.Faults[0].ViewerMinutesImpaired {
		t.Errorf("counterfactuals %+v, want one without plans at %.0f", cfs, wo)
	}
	if base.Summary.Counterfactuals != nil {
		t.Errorf("a run without plans or TTL changes has counterfactuals: %+v", base.Summary.Counterfactuals)
	}
	sc := mustScenario(t, snap, "compare = false\n"+doc+plan)
	if sc.Compare || len(sc.Plans) != 2 {
		t.Errorf("compare = false: Compare %v, plans %+v", sc.Compare, sc.Plans)
	}
}

// drainMoved drains a at 1m30s and returns how long 90 % of its viewers
// took to leave and the viewer-minutes they spent on it meanwhile.
func drainMoved(t *testing.T, policy, extra string) (time.Duration, float64) {
	t.Helper()
	snap := mustPolicy(t, policy)
	sc := mustScenario(t, snap, `duration = "10m"`+krAudience+extra+`
[[override]]
action = "drain"
cdn = "a"
region = "kr"
at = "90s"
duration = "8m"
`)
	res := mustRun(t, sc, nil)
	f := res.Summary.Faults[0]
	if f.Kind != "drain" || f.MovedAfter == nil {
		t.Fatalf("drain summary %+v", f)
	}
	return f.MovedAfter.D(), f.ViewerMinutesOn
}

// TestLowerTTLFollowsADrainSooner: resolvers keep an answer for the TTL
// it carried, so a schedule's lower TTL empties a drained CDN sooner,
// but only for answers given once the window began.
func TestLowerTTLFollowsADrainSooner(t *testing.T) {
	long := strings.Replace(twoRegions, "ttl = 20", "ttl = 120", 1)
	window := func(start string) string {
		return long + `
[[schedule]]
name = "match"
start = "` + start + `"
end = "2026-01-01T01:00:00Z"
ttl = 5
`
	}
	policyTTL, policyOn := drainMoved(t, long, "")
	lowTTL, lowOn := drainMoved(t, window("2025-12-31T23:00:00Z"), "")
	lateTTL, _ := drainMoved(t, window("2026-01-01T00:01:00Z"), "")
	t.Logf("90 %% moved after %s with the policy's 120 s, %s with 5 s in force, %s with 5 s from 1m (drain at 1m30s)", policyTTL, lowTTL, lateTTL)
	if policyTTL < 90*time.Second || lowTTL > 6*time.Second {
		t.Errorf("90 %% moved after %s with a 120 s TTL and %s with 5 s", policyTTL, lowTTL)
	}
	if lowOn > policyOn/10 {
		t.Errorf("viewer-minutes on the drained CDN: %.0f with 5 s, %.0f with 120 s", lowOn, policyOn)
	}
	// Answers cached before the window keep their 120 s: half a minute
	// into it, most have not expired yet.
	if lateTTL < 60*time.Second {
		t.Errorf("90 %% moved after %s when the TTL fell 30 s before the drain; answers cached at 120 s should hold them", lateTTL)
	}
}

// TestTTLInFluxFollowsASecondFaultSooner: with ttl_in_flux, answers
// given while a CDN of the region is degraded carry the lower TTL, so
// when a second CDN fails there its viewers leave it sooner. (It cannot
// hasten the first move: the answers held then were given before.) The
// run's counterfactual without it says how much it saved.
func TestTTLInFluxFollowsASecondFaultSooner(t *testing.T) {
	long := strings.Replace(twoRegions, "ttl = 20", "ttl = 120\ndown_threshold = 70\nup_threshold = 85", 1)
	flux := strings.Replace(long, "ttl = 120", "ttl = 120\nttl_in_flux = 5", 1)
	faults := `duration = "8m"` + krAudience + `
[[fault]]
cdn = "a"
region = "kr"
start = "1m"
end = "8m"
error_rate = 0.08
[[fault]]
cdn = "b"
region = "kr"
start = "5m"
end = "7m"
error_rate = 0.08
`
	without := mustRun(t, mustScenario(t, mustPolicy(t, long), faults), nil)
	with := mustRun(t, mustScenario(t, mustPolicy(t, flux), faults), nil)
	for i, name := range []string{"a", "b"} {
		w, wo := with.Summary.Faults[i], without.Summary.Faults[i]
		t.Logf("fault on %s: %.0f viewer-minutes impaired, moved after %v with ttl_in_flux; %.0f, %v without", name,
			w.ViewerMinutesImpaired, w.MovedAfter.D(), wo.ViewerMinutesImpaired, wo.MovedAfter.D())
	}
	w, wo := with.Summary.Faults[1], without.Summary.Faults[1]
	if w.MovedAfter == nil || wo.MovedAfter == nil || w.MovedAfter.D() > wo.MovedAfter.D()/3 || w.ViewerMinutesImpaired > wo.ViewerMinutesImpaired/2 {
		t.Errorf("second fault with ttl_in_flux %+v; without %+v", w, wo)
	}
	cfs := with.Summary.Counterfactuals
	if len(cfs) != 1 || cfs[0].Without != WithoutTTL || cfs[0].ViewerMinutesImpaired != without.Summary.ViewerMinutesImpaired {
		t.Errorf("counterfactuals %+v, want one without TTL changes at %.0f", cfs, without.Summary.ViewerMinutesImpaired)
	}
}

// TestCounterfactualsInTheReport: both what the plans and what the TTL
// changes did are in summary.json and the report.
func TestCounterfactualsInTheReport(t *testing.T) {
	policy := planPolicy + `
[[schedule]]
name = "match"
start = "2025-12-31T23:00:00Z"
end = "2026-01-01T01:00:00Z"
ttl = 5
`
	sc := mustScenario(t, mustPolicy(t, policy), `duration = "5m"`+krAudience+`
[[fault]]
cdn = "a"
region = "kr"
start = "1m"
end = "4m"
ttfb_add_ms = 20
[[plan_activation]]
plan = "a-kr-out"
at = "2m"
`)
	res := mustRun(t, sc, nil)
	cfs := res.Summary.Counterfactuals
	if len(cfs) != 2 || cfs[0].Without != WithoutPlans || cfs[1].Without != WithoutTTL {
		t.Fatalf("counterfactuals %+v", cfs)
	}
	if !(cfs[0].ViewerMinutesImpaired > res.Summary.ViewerMinutesImpaired && cfs[1].ViewerMinutesImpaired > res.Summary.ViewerMinutesImpaired) {
		t.Errorf("impaired %.0f; without plans %.0f, without the TTL change %.0f: both should be worse",
			res.Summary.ViewerMinutesImpaired, cfs[0].ViewerMinutesImpaired, cfs[1].ViewerMinutesImpaired)
	}
	dir := t.TempDir()
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
	html := readFile(t, dir+"/"+FileReport)
	for _, want := range []string{`id="what-changed"`, "without the plans", "without the TTL changes", "Viewer-minutes the plans saved",
		"Plans: a-kr-out activated at 00:02:00.", "TTL changes: the policy&#39;s TTL is 20s; 5s during schedule match"} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if js := readFile(t, dir+"/"+FileSummary); !strings.Contains(js, `"counterfactuals": [`) || !strings.Contains(js, `"without": "ttl"`) {
		t.Errorf("summary.json lacks the counterfactuals")
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
