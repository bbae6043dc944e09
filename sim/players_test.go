package sim

import (
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// oneRegion is a flat audience in the default region behind honest
// resolvers, with whatever [players], faults and overrides extra adds.
// The policy weighs TTFB as the football's does, so that a slow CDN is
// taken out, as the defaults would not.
func oneRegion(t *testing.T, viewers, extra string) *Scenario {
	t.Helper()
	strict := "ttl = 20\ndown_threshold = 60\nup_threshold = 80\nscore.ttfb = { weight = 0.45, good = 150, bad = 450 }\n" +
		"score.error_rate = { weight = 0.45, good = 0.005, bad = 0.05 }\nscore.cache_hit = { weight = 0.1, good = 0.95, bad = 0.6 }\nscore.throughput = { weight = 0 }\n"
	return mustScenario(t, mustPolicy(t, strings.Replace(twoRegions, "ttl = 20\n", strict, 1)), `
duration = "12m"
[audience]
points = [{ at = "0m", viewers = `+viewers+` }]
[region.default]
share = 1
resolvers = 100
ecs_share = 0.5
ecs_subnets = 8
stretch_share = 0
[telemetry]
noise = 0
`+extra)
}

const ttfbFault = `
[[fault]]
cdn = "a"
start = "2m"
duration = "8m"
ttfb_add_ms = 900
`

func TestPlayersKeys(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, "duration = \"1m\"\n[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n")
	if sc.Players != (Players{FollowDNS: 1, SteeringTTL: 30 * time.Second}) {
		t.Errorf("default players %+v", sc.Players)
	}
	sc = mustScenario(t, snap, "duration = \"1m\"\n[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n[players]\nfollow_dns = 0.2\nsession_minutes = 50\nreload_error_rate = 0.05\n")
	if want := (Players{FollowDNS: 0.2, Session: 50 * time.Minute, ReloadErrorRate: 0.05, Reload: true, SteeringTTL: 30 * time.Second}); sc.Players != want {
		t.Errorf("players %+v, want %+v", sc.Players, want)
	}
	for _, tc := range []struct{ table, want string }{
		{"follow_dns = 1.5", `s.toml:5: follow_dns = 1.5 is outside 0..1`},
		{"follow_dns = -0.1", `s.toml:5: follow_dns = -0.1 is outside 0..1`},
		{"session_minutes = 0", `s.toml:5: session_minutes = 0 is outside 0..1e+06 (leave it out for sessions that last the whole event)`},
		{"session_minutes = -5", `s.toml:5: session_minutes = -5 is outside 0..1e+06 (leave it out for sessions that last the whole event)`},
		{"reload_error_rate = 2", `s.toml:5: reload_error_rate = 2 is outside 0..1`},
		{"follow = 0.5", `s.toml:5: unknown key "players.follow"`},
		{"follow_dns = \"most\"", `s.toml:5: `},
	} {
		doc := "duration = \"1m\"\n[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n[players]\n" + tc.table + "\n"
		_, err := ParseScenario("s.toml", []byte(doc), snap)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Count(err.Error(), "s.toml:") != 1 {
			t.Errorf("%s: error %v, want %q", tc.table, err, tc.want)
		}
	}
}

// TestEveryoneFollowingIsTheDefault: with follow_dns = 1 the other keys
// have nothing to act on, and the run is the one without [players].
func TestEveryoneFollowingIsTheDefault(t *testing.T) {
	plain := mustRun(t, oneRegion(t, "20000", ttfbFault), nil)
	all := mustRun(t, oneRegion(t, "20000", ttfbFault+"[players]\nfollow_dns = 1\nsession_minutes = 3\nreload_error_rate = 0.01\n"), nil)
	if !reflect.DeepEqual(plain.Summary, all.Summary) || !reflect.DeepEqual(plain.Series, all.Series) {
		t.Errorf("follow_dns = 1 changed the run:\n%+v\n%+v", plain.Summary, all.Summary)
	}
}

// TestStickyPlayersStayOnAFaultedCDN: a player that keeps its
// connection is not moved by a new answer, so a TTFB fault (no errors to
// make it reload) keeps hurting the viewers who do not follow DNS.
func TestStickyPlayersStayOnAFaultedCDN(t *testing.T) {
	impaired := func(players string) FaultSummary {
		return mustRun(t, oneRegion(t, "20000", ttfbFault+players), nil).Summary.Faults[0]
	}
	all, sticky := impaired(""), impaired("[players]\nfollow_dns = 0.2\n")
	t.Logf("fault: %.0f viewer-minutes impaired following DNS, %.0f with 20 %% following", all.ViewerMinutesImpaired, sticky.ViewerMinutesImpaired)
	// 80 % of a's viewers stay for the fault's 8 minutes.
	if want := 0.8 * float64(sticky.ViewersAtStart) * 8 * 0.95; sticky.ViewerMinutesImpaired < want || sticky.ViewerMinutesImpaired < 10*all.ViewerMinutesImpaired {
		t.Errorf("%.0f viewer-minutes impaired with sticky players, want over %.0f and 10× the %.0f following DNS", sticky.ViewerMinutesImpaired, want, all.ViewerMinutesImpaired)
	}
	if sticky.MovedAfter != nil || sticky.ShiftAfter == nil || all.MovedAfter == nil {
		t.Errorf("sticky: shift %v moved %v; following: moved %v", sticky.ShiftAfter, sticky.MovedAfter, all.MovedAfter)
	}
}

// TestSessionsEndOnTheAnswer: viewers whose session ends come back
// through DNS, so the strays on a drained CDN fall as e^(-t/session).
func TestSessionsEndOnTheAnswer(t *testing.T) {
	sc := oneRegion(t, "20000", `
[players]
follow_dns = 0
session_minutes = 4
[[override]]
action = "drain"
cdn = "a"
at = "1m"
duration = "10m"
`)
	var at1, at9 int64
	mustRun(t, sc, func(st *Step) {
		switch st.Elapsed {
		case 2 * time.Minute: // every resolver has had the new answer
			at1 = st.Viewers[0][0]
		case 9 * time.Minute:
			at9 = st.Viewers[0][0]
		}
	})
	want := float64(at1) * math.Exp(-7.0/4)
	t.Logf("on the drained CDN: %d at 2m, %d at 9m (e^(-7/4) of it: %.0f)", at1, at9, want)
	if at1 < 5000 || math.Abs(float64(at9)-want) > 0.02*float64(at1) {
		t.Errorf("%d viewers on the drained CDN at 2m and %d at 9m, want over 5,000 and %.0f", at1, at9, want)
	}
}

// TestAudienceJoinsOnTheAnswer: newcomers take the current answer and
// the departing leave every CDN alike.
func TestAudienceJoinsOnTheAnswer(t *testing.T) {
	sc := oneRegion(t, "0", `
[players]
follow_dns = 0
[[override]]
action = "drain"
cdn = "a"
at = "1m"
duration = "10m"
`)
	sc.Curve.Points = []Point{{0, 20000}, {2 * time.Minute, 20000}, {3 * time.Minute, 200000}, {5 * time.Minute, 200000}, {6 * time.Minute, 20000}}
	on := map[time.Duration]int64{}
	mustRun(t, sc, func(st *Step) {
		if st.Elapsed%time.Minute == 0 {
			on[st.Elapsed] = st.Viewers[0][0]
		}
	})
	t.Logf("on the drained CDN: %v", on)
	// About 9,000 strays at 2m (a's part of the audience); the 180,000 who join all go elsewhere; the
	// audience falls back to a tenth and so do the strays.
	if on[2*time.Minute] < 8000 || on[4*time.Minute] != on[2*time.Minute] || math.Abs(float64(on[7*time.Minute])-float64(on[2*time.Minute])/10) > 2 {
		t.Errorf("viewers on the drained CDN %v: want the 2m count at 4m and a tenth of it at 7m", on)
	}
}

// TestPlayersReloadOnErrors: strays on a CDN failing at least
// reload_error_rate of requests reload onto their resolver's answer; a
// lower error rate leaves them where they are.
func TestPlayersReloadOnErrors(t *testing.T) {
	errFault := strings.Replace(ttfbFault, "ttfb_add_ms = 900", "error_rate = 0.1", 1)
	impaired := func(players string) float64 {
		return mustRun(t, oneRegion(t, "20000", errFault+"[players]\nfollow_dns = 0.2\n"+players), nil).Summary.Faults[0].ViewerMinutesImpaired
	}
	stay, above, reload := impaired(""), impaired("reload_error_rate = 0.2\n"), impaired("reload_error_rate = 0.05\n")
	all := mustRun(t, oneRegion(t, "20000", errFault), nil).Summary.Faults[0].ViewerMinutesImpaired
	t.Logf("viewer-minutes impaired: %.0f staying, %.0f reloading at 20 %%, %.0f reloading at 5 %%, %.0f following DNS", stay, above, reload, all)
	if above != stay || reload > 1.1*all || stay < 10*all {
		t.Errorf("viewer-minutes impaired: %.0f staying, %.0f reloading at 20 %%, %.0f reloading at 5 %%, %.0f following DNS", stay, above, reload, all)
	}
}

// TestStickyPopulationAddsUp checks the bookkeeping step by step: every
// viewer on exactly one CDN, and the region's sums of strays equal to
// what each group holds, brought up to date.
func TestStickyPopulationAddsUp(t *testing.T) {
	sc := mustScenario(t, mustPolicy(t, twoRegions), busy+"[players]\nfollow_dns = 0.3\nsession_minutes = 7\nreload_error_rate = 0.05\n")
	r := newRunner(sc)
	n := int64(sc.Duration / sc.Step)
	s := r.pop.sticky
	for k := int64(0); k < n; k++ {
		if err := r.step(k); err != nil {
			t.Fatal(err)
		}
		for ri := range sc.Regions {
			sum := int64(0)
			for ci := range sc.CDNs {
				if v := r.st.Viewers[ri][ci]; v < 0 {
					t.Fatalf("step %d: %d viewers on %s in %s", k, v, sc.CDNs[ci].Name, sc.Regions[ri].Name)
				}
				sum += r.st.Viewers[ri][ci]
			}
			if sum != r.st.RegionViewers[ri] {
				t.Fatalf("step %d: %d viewers on CDNs in %s, %d there", k, sum, sc.Regions[ri].Name, r.st.RegionViewers[ri])
			}
		}
		if k%97 != 0 {
			continue
		}
		want := make([][][]float64, len(sc.Regions))
		for ri := range want {
			want[ri] = make([][]float64, len(sc.CDNs))
			for a := range want[ri] {
				want[ri][a] = make([]float64, len(sc.CDNs))
			}
		}
		for i, g := range r.pop.groups {
			fade := math.Exp(s.at[i] - s.decay)
			for c := range sc.CDNs {
				x := s.share[i*len(sc.CDNs)+c]
				if s.reloaded[g.region][c] > s.since[i] {
					x = 0
				}
				want[g.region][g.cdn][c] += float64(g.units) / unitsPerRegion * x * fade
			}
		}
		for ri := range want {
			for a := range want[ri] {
				for c, w := range want[ri][a] {
					if got := s.stray[ri][a][c]; math.Abs(got-w) > 1e-9 {
						t.Fatalf("step %d: strays of %s in %s on %s: %g, groups hold %g", k, sc.CDNs[a].Name, sc.Regions[ri].Name, sc.CDNs[c].Name, got, w)
					}
				}
			}
		}
	}
}

// TestViewerSwitches: a drain moves each of the drained CDN's viewers
// once, and back when it ends; a flat, fault-free run moves no one.
func TestViewerSwitches(t *testing.T) {
	quiet := mustRun(t, oneRegion(t, "20000", ""), nil).Summary
	if quiet.ViewerSwitches != 0 || quiet.SwitchesPerViewerHour != 0 {
		t.Errorf("quiet run: %d switches, %g per viewer-hour", quiet.ViewerSwitches, quiet.SwitchesPerViewerHour)
	}
	drain := `
[[override]]
action = "drain"
cdn = "a"
at = "1m"
duration = "5m"
`
	var before int64
	sc := oneRegion(t, "20000", drain)
	s := mustRun(t, sc, func(st *Step) {
		if st.Elapsed == time.Minute-sc.Step {
			before = st.Viewers[0][0]
		}
	}).Summary
	// Out and back; the hash draws need not bring back exactly the same
	// groups, so allow a little.
	t.Logf("%d on a before the drain; %d switches, %.3f per viewer-hour", before, s.ViewerSwitches, s.SwitchesPerViewerHour)
	if math.Abs(float64(s.ViewerSwitches)-2*float64(before)) > 0.1*float64(before) {
		t.Errorf("%d switches for a drain of %d viewers and back, want about %d", s.ViewerSwitches, before, 2*before)
	}
	if want := float64(s.ViewerSwitches) / (20000 * 12.0 / 60); math.Abs(s.SwitchesPerViewerHour-want) > 1e-3 {
		t.Errorf("%g switches per viewer-hour, want %g", s.SwitchesPerViewerHour, want)
	}
	// Strays come back when their sessions end: that is a switch too.
	sticky := mustRun(t, oneRegion(t, "20000", drain+"[players]\nfollow_dns = 0\nsession_minutes = 2\n"), nil).Summary
	if sticky.ViewerSwitches < before/2 || sticky.ViewerSwitches > 2*before {
		t.Errorf("%d switches with sessions of 2 minutes, want about %d", sticky.ViewerSwitches, before)
	}
}

// TestFailOpensCounted: a fault on every CDN of a region takes them all
// out, and the engine fails open.
func TestFailOpensCounted(t *testing.T) {
	var faults string
	for _, c := range []string{"a", "b", "c"} {
		faults += "[[fault]]\ncdn = \"" + c + "\"\nstart = \"2m\"\nduration = \"5m\"\nerror_rate = 0.5\n"
	}
	res := mustRun(t, oneRegion(t, "20000", faults), nil)
	want := 0
	for _, d := range res.Decisions {
		if d.Kind == health.DecisionFailOpen {
			want++
		}
	}
	if want == 0 || res.Summary.FailOpens != want {
		t.Errorf("%d fail-opens in the summary, %d in the log", res.Summary.FailOpens, want)
	}
}

// TestStickyFootballIsTheFootball keeps the sticky example the football
// rehearsal but for its name and [players].
func TestStickyFootballIsTheFootball(t *testing.T) {
	body := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var keep []string
		table := ""
		for _, line := range strings.Split(string(data), "\n") {
			trimmed := strings.TrimSpace(line)
			if strings.HasPrefix(trimmed, "[") {
				table = trimmed
			}
			if strings.HasPrefix(trimmed, "#") || trimmed == "" || strings.HasPrefix(trimmed, "name = ") && table == "" || table == "[players]" {
				continue
			}
			keep = append(keep, line)
		}
		return strings.Join(keep, "\n")
	}
	for _, variant := range []string{"football-sticky-scenario.toml", "football-steering-scenario.toml"} {
		if a, b := body("../zones/examples/football-scenario.toml"), body("../zones/examples/"+variant); a != b {
			t.Errorf("%s differs from football-scenario.toml beyond its name and [players]", variant)
		}
	}
	sc := footballScenario(t)
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		t.Fatal(err)
	}
	sticky, err := LoadScenario("../zones/examples/football-sticky-scenario.toml", snap)
	if err != nil {
		t.Fatal(err)
	}
	if !sticky.Players.sticky() || sc.Players.sticky() {
		t.Errorf("players: %+v in the sticky example, %+v in the football", sticky.Players, sc.Players)
	}
	steering, err := LoadScenario("../zones/examples/football-steering-scenario.toml", snap)
	if err != nil {
		t.Fatal(err)
	}
	// The steering example is the sticky one but for the steering players.
	want := sticky.Players
	want.SteeringShare = steering.Players.SteeringShare
	if steering.Players != want || want.SteeringShare != 0.6 || sc.Players.SteeringShare != 0 || sticky.Players.SteeringShare != 0 {
		t.Errorf("players: %+v in the steering example, %+v in the sticky one", steering.Players, sticky.Players)
	}
}

// BenchmarkFootball3hSticky is BenchmarkFootball3h with the sticky
// example's players (a fifth following DNS, 50-minute sessions, reloads
// at 5 % errors):
//
//	go test -run - -bench Football3hSticky -benchtime 3x -cpu 1 ./sim
func BenchmarkFootball3hSticky(b *testing.B) {
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sc, err := LoadScenario("../zones/examples/football-sticky-scenario.toml", snap)
		if err != nil {
			b.Fatal(err)
		}
		sc.Duration, sc.Step = 3*time.Hour, time.Second
		if res := mustRun(b, sc, nil); res.Summary.PeakAudience != 1800000 {
			b.Fatalf("peak %d", res.Summary.PeakAudience)
		}
	}
}
