package sim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

func TestSteeringKeys(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	doc := "duration = \"1m\"\n[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n[players]\n"
	sc := mustScenario(t, snap, doc+"steering_share = 0.6\n")
	if sc.Players.SteeringShare != 0.6 || sc.Players.SteeringTTL != 30*time.Second {
		t.Errorf("players %+v, want a 0.6 share at the 30 s default", sc.Players)
	}
	sc = mustScenario(t, snap, doc+"steering_share = 1\nsteering_ttl = \"10s\"\n")
	if sc.Players.SteeringShare != 1 || sc.Players.SteeringTTL != 10*time.Second {
		t.Errorf("players %+v", sc.Players)
	}
	// The default is what the policy's steering server tells players.
	withTTL := mustPolicy(t, twoRegions+"[steering]\nlisten = \"127.0.0.1:8054\"\nttl = 12\n")
	if sc = mustScenario(t, withTTL, doc+"steering_share = 0.5\n"); sc.Players.SteeringTTL != 12*time.Second {
		t.Errorf("steering ttl %s, want the policy's 12s", sc.Players.SteeringTTL)
	}
	for _, tc := range []struct{ table, want string }{
		{"steering_share = 1.5", `s.toml:5: steering_share = 1.5 is outside 0..1`},
		{"steering_share = -0.1", `s.toml:5: steering_share = -0.1 is outside 0..1`},
		{"steering_share = \"most\"", `s.toml:5: `},
		{"steering_ttl = \"0s\"", `s.toml:5: steering_ttl = 0s is outside 1s..24h`},
		{"steering_ttl = \"-5s\"", `s.toml:5: steering_ttl = -5s is outside 1s..24h`},
		{"steering_ttl = \"48h\"", `s.toml:5: steering_ttl = 48h0m0s is outside 1s..24h`},
		{"steering_ttl = 30", `s.toml:5: steering_ttl = 30ns is outside 1s..24h`},
	} {
		_, err := ParseScenario("s.toml", []byte(doc+tc.table+"\n"), snap)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Count(err.Error(), "s.toml:") != 1 {
			t.Errorf("%s: error %v, want %q", tc.table, err, tc.want)
		}
	}
}

// TestNoSteeringIsTheDefault: steering_share = 0 is the run without it,
// and asks for no counterfactual.
func TestNoSteeringIsTheDefault(t *testing.T) {
	players := "[players]\nfollow_dns = 0.2\nsession_minutes = 5\n"
	plain := mustRun(t, oneRegion(t, "20000", ttfbFault+players), nil)
	none := mustRun(t, oneRegion(t, "20000", ttfbFault+players+"steering_share = 0\nsteering_ttl = \"5s\"\n"), nil)
	if !reflect.DeepEqual(plain.Summary, none.Summary) || !reflect.DeepEqual(plain.Series, none.Series) {
		t.Errorf("steering_share = 0 changed the run:\n%+v\n%+v", plain.Summary, none.Summary)
	}
}

// steeringFault is a TTFB fault on a with the steering timeline: the
// viewers on a before the engine cut it, the step it did, and the first
// step after it with at most half of them left.
type steeringFault struct {
	before      int64
	cut, halved time.Duration
	atEnd       int64
	step        time.Duration
	res         *Result
}

func runSteeringFault(t *testing.T, players string) steeringFault {
	t.Helper()
	sc := oneRegion(t, "20000", ttfbFault+players)
	out := steeringFault{cut: -1, halved: -1, step: sc.Step}
	base := -1.0
	out.res = mustRun(t, sc, func(st *Step) {
		if base < 0 {
			base = st.Weights[0][0]
		}
		switch {
		case out.cut < 0 && st.Weights[0][0] < base:
			out.cut = st.Elapsed
		case out.cut < 0:
			out.before = st.Viewers[0][0]
		case out.halved < 0 && st.Viewers[0][0] <= out.before/2:
			out.halved = st.Elapsed
		}
		if st.Elapsed == 9*time.Minute {
			out.atEnd = st.Viewers[0][0]
		}
	})
	if out.cut < 0 || out.before == 0 {
		t.Fatalf("the engine never cut a (%d viewers on it)", out.before)
	}
	return out
}

// TestSteeringPlayersLeaveAFaultedCDN: players that use content steering
// leave a CDN the engine cut within one steering TTL of the cut, although
// none of them follows DNS; sticky players without steering stay until
// the fault ends.
func TestSteeringPlayersLeaveAFaultedCDN(t *testing.T) {
	sticky := runSteeringFault(t, "[players]\nfollow_dns = 0\n")
	steer := runSteeringFault(t, "[players]\nfollow_dns = 0\nsteering_share = 0.6\nsteering_ttl = \"30s\"\n")
	t.Logf("cut at %s; sticky: %d of %d on a at 9m; steering: halved at %s, %d on a at 9m", sticky.cut, sticky.atEnd, sticky.before, steer.halved, steer.atEnd)
	if sticky.atEnd < sticky.before*95/100 {
		t.Errorf("sticky players: %d of %d left on the faulted CDN, want them to stay", sticky.atEnd, sticky.before)
	}
	if steer.halved < 0 || steer.halved-steer.cut > 30*time.Second+steer.step {
		t.Errorf("steering players: half of a's %d viewers gone %s after the cut, want within 30s and a step", steer.before, steer.halved-steer.cut)
	}
	// The 40 % without steering stay; every steering player has gone.
	if lo, hi := steer.before*38/100, steer.before*42/100; steer.atEnd < lo || steer.atEnd > hi {
		t.Errorf("steering: %d of %d on a at 9m, want 40 %%", steer.atEnd, steer.before)
	}
	s, d := steer.res.Summary, sticky.res.Summary
	if s.ViewerMinutesFaulted > 0.5*d.ViewerMinutesFaulted || s.ViewerSwitches <= d.ViewerSwitches {
		t.Errorf("viewer-minutes faulted %.0f with steering, %.0f without; switches %d, %d", s.ViewerMinutesFaulted, d.ViewerMinutesFaulted, s.ViewerSwitches, d.ViewerSwitches)
	}
}

// TestSteeringCounterfactual: a run with steering players is compared with
// DNS alone, the same event with steering_share = 0, in summary.json and
// in the report.
func TestSteeringCounterfactual(t *testing.T) {
	players := "[players]\nfollow_dns = 0.2\nsession_minutes = 20\n"
	alone := mustRun(t, oneRegion(t, "20000", ttfbFault+players), nil)
	if len(alone.Summary.Counterfactuals) != 0 {
		t.Fatalf("counterfactuals without steering: %+v", alone.Summary.Counterfactuals)
	}
	res := mustRun(t, oneRegion(t, "20000", ttfbFault+players+"steering_share = 0.6\n"), nil)
	dir := t.TempDir()
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Faulted         float64 `json:"viewer_minutes_faulted"`
		Counterfactuals []struct {
			Without  string  `json:"without"`
			Faulted  float64 `json:"viewer_minutes_faulted"`
			Impaired float64 `json:"viewer_minutes_impaired"`
		} `json:"counterfactuals"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Counterfactuals) != 1 || sum.Counterfactuals[0].Without != "steering" {
		t.Fatalf("counterfactuals %+v, want one without steering", sum.Counterfactuals)
	}
	cf := sum.Counterfactuals[0]
	// Same seed, same event: DNS alone is the run without steering players.
	if cf.Faulted != alone.Summary.ViewerMinutesFaulted || cf.Impaired != alone.Summary.ViewerMinutesImpaired {
		t.Errorf("DNS alone: %.0f faulted, %.0f impaired; the run without steering: %.0f, %.0f", cf.Faulted, cf.Impaired,
			alone.Summary.ViewerMinutesFaulted, alone.Summary.ViewerMinutesImpaired)
	}
	if sum.Faulted >= cf.Faulted {
		t.Errorf("viewer-minutes faulted: %.0f with steering, %.0f DNS alone", sum.Faulted, cf.Faulted)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Viewer-minutes on a degraded CDN: with steering ", "DNS alone", "saved-by-steering"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// BenchmarkFootball3hSteering is BenchmarkFootball3hSticky with the
// steering example's players (60 % content steering), the match alone:
//
//	go test -run - -bench 'Football3h(Sticky|Steering)Once' -benchtime 1x -cpu 1 ./sim
func BenchmarkFootball3hSteeringOnce(b *testing.B) {
	benchmarkVariantOnce(b, "football-steering-scenario.toml")
}

// BenchmarkFootball3hStickyOnce is the sticky example, the match alone,
// to set BenchmarkFootball3hSteeringOnce against.
func BenchmarkFootball3hStickyOnce(b *testing.B) {
	benchmarkVariantOnce(b, "football-sticky-scenario.toml")
}

func benchmarkVariantOnce(b *testing.B, file string) {
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sc, err := LoadScenario("../zones/examples/"+file, snap)
		if err != nil {
			b.Fatal(err)
		}
		sc.Duration, sc.Step, sc.Compare = 3*time.Hour, time.Second, false
		if res := mustRun(b, sc, nil); res.Summary.PeakAudience != 1800000 {
			b.Fatalf("peak %d", res.Summary.PeakAudience)
		}
	}
}
