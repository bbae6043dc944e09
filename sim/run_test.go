package sim

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// busy is a small scenario that exercises everything at once: a spike,
// two regions, a CDN that saturates (its ceiling is low), a regional
// commit, a TTFB fault, an error fault and a drain.
const busy = `
name = "busy"
duration = "20m"
seed = 7
[audience]
start_viewers = 5000
[[audience.phase]]
name = "pre-show"
duration = "5m"
viewers = 40000
[[audience.phase]]
name = "kick-off"
duration = "10m"
viewers = 80000
settle = 60000
[[audience.phase]]
name = "post-match"
duration = "5m"
viewers = 10000
[region.kr]
share = 0.6
bitrate_mbps = 6
resolvers = 40
ecs_share = 0.5
ecs_subnets = 8
stretch_share = 0.2
stretch_ttl = "2m"
[region.default]
share = 0.4
resolvers = 30
ecs_subnets = 4
[cdn.c]
commit_gbps = 60
ceiling_gbps = 70
[cdn.b.region.kr]
commit_gbps = 60
[[fault]]
cdn = "a"
region = "kr"
start = "6m"
end = "9m"
ttfb_add_ms = 900
[[fault]]
cdn = "b"
start = "12m"
duration = "2m"
error_rate = 0.08
[[override]]
action = "drain"
cdn = "a"
region = "default"
at = "15m"
duration = "3m"
[[annotation]]
at = "10m"
text = "goal"
`

func TestAccounting(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, busy)
	steps, saturated, impaired := 0, 0, int64(0)
	res := mustRun(t, sc, func(st *Step) {
		steps++
		if want := int64(math.Round(sc.Curve.At(st.Elapsed))); st.Audience != want {
			t.Fatalf("%s: audience %d, curve says %d", st.Elapsed, st.Audience, want)
		}
		sumRegions := int64(0)
		for ri, reg := range sc.Regions {
			sumRegions += st.RegionViewers[ri]
			viewers, demand := int64(0), 0.0
			for ci := range sc.CDNs {
				viewers += st.Viewers[ri][ci]
				demand += st.DemandGbps[ri][ci]
				if st.DeliveredGbps[ri][ci] > st.DemandGbps[ri][ci]+1e-9 {
					t.Fatalf("%s %s/%s: delivered %g > demand %g", st.Elapsed, reg.Name, sc.CDNs[ci].Name, st.DeliveredGbps[ri][ci], st.DemandGbps[ri][ci])
				}
				if st.Saturated[ri][ci] != (st.DeliveredGbps[ri][ci] < st.DemandGbps[ri][ci]*(1-1e-9)) {
					t.Fatalf("%s: saturated flag disagrees with the traffic", st.Elapsed)
				}
				if st.Saturated[ri][ci] {
					saturated++
				}
				impaired += st.Impaired[ri][ci]
			}
			// Every viewer of the region is on exactly one CDN, and the
			// Gbit/s they ask for add up to the region's.
			if viewers != st.RegionViewers[ri] {
				t.Fatalf("%s %s: %d viewers on CDNs, %d in the region", st.Elapsed, reg.Name, viewers, st.RegionViewers[ri])
			}
			if want := float64(st.RegionViewers[ri]) * reg.BitrateMbps / 1000; math.Abs(demand-want) > 1e-9*math.Max(1, want) {
				t.Fatalf("%s %s: demand %g Gbit/s, want %g", st.Elapsed, reg.Name, demand, want)
			}
		}
		if sumRegions != st.Audience {
			t.Fatalf("%s: regions hold %d viewers, audience %d", st.Elapsed, sumRegions, st.Audience)
		}
	})
	if steps != 1200 || len(res.Series.Intervals) != 1200 {
		t.Errorf("%d steps, %d intervals, want 1200", steps, len(res.Series.Intervals))
	}
	if saturated == 0 || impaired == 0 {
		t.Errorf("the scenario should saturate c and impair viewers (saturated steps %d, impaired %d)", saturated, impaired)
	}
	// The series' CDN totals are the sums of their cells.
	for _, iv := range res.Series.Intervals {
		for ci := range sc.CDNs {
			v, g := 0.0, 0.0
			for ri := range sc.Regions {
				v += iv.Cells[ri][ci].Viewers
				g += iv.Cells[ri][ci].DeliveredGbps
			}
			if math.Abs(v-iv.CDNs[ci].Viewers) > 1e-6 || math.Abs(g-iv.CDNs[ci].DeliveredGbps) > 1e-6 {
				t.Fatalf("%s: CDN totals disagree with cells", iv.Time)
			}
		}
	}
}

func TestDeterminism(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	write := func(seed int64) string {
		sc := mustScenario(t, snap, busy)
		sc.Seed = seed
		sc.OutputInterval = 30 * time.Second
		dir := t.TempDir()
		if err := mustRun(t, sc, nil).Write(dir); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	a, b, c := write(7), write(7), write(8)
	for _, name := range []string{FileIntervalsCSV, FileCDNsCSV, FileIntervals, FileSummary, FileDecisions, FileReport} {
		fa, _ := os.ReadFile(filepath.Join(a, name))
		fb, _ := os.ReadFile(filepath.Join(b, name))
		if len(fa) == 0 || !bytes.Equal(fa, fb) {
			t.Errorf("%s differs between two runs with the same seed (%d and %d bytes)", name, len(fa), len(fb))
		}
	}
	fa, _ := os.ReadFile(filepath.Join(a, FileIntervalsCSV))
	fc, _ := os.ReadFile(filepath.Join(c, FileIntervalsCSV))
	if bytes.Equal(fa, fc) {
		t.Error("another seed gave the same run: the seed does nothing")
	}
}

// reactionBound is the longest the policy may take to shift away from a
// CDN whose readings turn from healthy to faulty: the telemetry pipeline
// (one measurement interval, the delay, and the step before the next
// evaluation), then the evaluations the smoothed score needs to fall
// below the down threshold, then DownAfter of them in a row.
func reactionBound(p health.Params, tm Telemetry, step time.Duration, healthy, faulty health.Readings, commit float64) (time.Duration, int) {
	before, _ := health.Score(healthy, p, commit)
	raw, _ := health.Score(faulty, p, commit)
	score, evals := before, 0
	for score >= p.DownThreshold {
		score = p.SmoothingDown*raw + (1-p.SmoothingDown)*score
		evals++
		if evals > 1000 {
			return -1, 0
		}
	}
	evals += p.DownAfter - 1
	return tm.Interval + tm.Delay + step + time.Duration(evals)*p.EvalInterval, evals
}

func TestFaultShiftsWithinReactionTime(t *testing.T) {
	// Stricter than the defaults, which only lower an 8 % error rate's
	// weight: this policy takes the CDN out.
	snap := mustPolicy(t, strings.Replace(twoRegions, "ttl = 20", "ttl = 20\ndown_threshold = 70\nup_threshold = 85", 1))
	sc := mustScenario(t, snap, `
duration = "6m"
[audience]
points = [{ at = "0m", viewers = 20000 }]
[region.kr]
share = 1
resolvers = 50
ecs_share = 1
ecs_subnets = 10
stretch_share = 0
[telemetry]
noise = 0
delay = "3s"
[[fault]]
cdn = "b"
region = "kr"
start = "2m"
duration = "3m"
error_rate = 0.08
`)
	res := mustRun(t, sc, nil)
	p, q := sc.Policy.Params, sc.CDNs[1].Regions[1].Quality
	// b has 40 % of 20,000 viewers at 5 Mbit/s: 40 Gbit/s of its 300.
	healthy := health.Readings{Values: health.Values{health.TTFB: health.F(q.TTFBMs), health.ErrorRate: health.F(q.ErrorRate), health.CacheHit: health.F(q.CacheHit), health.Throughput: health.F(40)}}
	faulty := healthy
	faulty.Values[health.ErrorRate] = health.F(0.08)
	bound, evals := reactionBound(p, sc.Telemetry, sc.Step, healthy, faulty, 300)
	if bound <= 0 || evals < p.DownAfter {
		t.Fatalf("an 8 %% error rate should degrade a CDN under this policy (bound %s, %d evaluations)", bound, evals)
	}
	t.Logf("reaction bound %s (%d evaluations)", bound, evals)
	f := res.Summary.Faults[0]
	if f.ShiftAfter == nil {
		t.Fatalf("no shift: %+v", f)
	}
	t.Logf("shift after %s, moved after %v", f.ShiftAfter.D(), f.MovedAfter.D())
	if got := f.ShiftAfter.D(); got > bound || got < time.Duration(evals)*p.EvalInterval {
		t.Errorf("shift after %s, want between %s and the bound %s (%d evaluations)", got, time.Duration(evals)*p.EvalInterval, bound, evals)
	}
	// The engine said why, in the log.
	var degraded *health.Decision
	for i, d := range res.Decisions {
		if d.Kind == health.DecisionState && d.CDN == "b" && d.Region == "kr" && d.To == string(health.Degraded) {
			degraded = &res.Decisions[i]
			break
		}
	}
	start := sc.Start.Add(2 * time.Minute)
	if degraded == nil || degraded.Time.Sub(start) > bound || degraded.Signals["error_rate"] != 0.08 {
		t.Errorf("degraded decision = %+v, want one within %s of %s with the 8 %% error rate", degraded, bound, start)
	}
	// Without stretching resolvers every viewer follows within a TTL.
	if f.MovedAfter == nil || f.MovedAfter.D() > f.ShiftAfter.D()+sc.Policy.TTL+sc.Step {
		t.Errorf("viewers moved after %v, want within a TTL of the shift", f.MovedAfter)
	}
	if f.LowestShare != 0 || f.ViewerMinutesImpaired <= 0 {
		t.Errorf("fault summary %+v", f)
	}
}

func TestStretchedTTLsKeepViewersLonger(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	moved := func(stretch string) time.Duration {
		sc := mustScenario(t, snap, `
duration = "10m"
[audience]
points = [{ at = "0m", viewers = 10000 }]
[region.default]
share = 1
resolvers = 200
ecs_share = 0
stretch_share = `+stretch+`
stretch_ttl = "4m"
[[override]]
action = "drain"
cdn = "a"
at = "1m"
duration = "8m"
`)
		f := mustRun(t, sc, nil).Summary.Faults[0]
		if f.Kind != "drain" || f.ShiftAfter == nil || f.ShiftAfter.D() != 0 || f.MovedAfter == nil {
			t.Fatalf("drain summary %+v", f)
		}
		return f.MovedAfter.D()
	}
	honest, stretched := moved("0"), moved("0.5")
	t.Logf("moved after %s (honest) and %s (half stretching)", honest, stretched)
	if honest > 20*time.Second || stretched < 3*time.Minute || stretched > 4*time.Minute {
		t.Errorf("90 %% of viewers left a drained CDN after %s with honest resolvers (want ≤ TTL) and %s with half stretching to 4m", honest, stretched)
	}
}

func TestSaturationPoint(t *testing.T) {
	// Hand-computed: one region, CDN a has 3/4 of the baseline, viewers
	// watch at 4 Mbit/s, so a carries 3 Mbit/s per viewer and fills a
	// 300 Gbit/s commit at 300e9 / 3e6 = 100,000 viewers. The policy does
	// not give the commit, so the engine does not shed and the audience
	// ramp shows the raw crossing.
	snap := mustPolicy(t, `
[cdn.a]
target = "a.example.net."
[cdn.b]
target = "b.example.net."
[policy.live.region.default]
weights = { a = 3, b = 1 }
`)
	sc := mustScenario(t, snap, `
duration = "20m"
[audience]
bitrate_mbps = 4
points = [{ at = "0m", viewers = 0 }, { at = "20m", viewers = 200000 }]
[region.default]
share = 1
resolvers = 1000
resolver_skew = 0
ecs_share = 1
ecs_subnets = 20
[quality]
knee = 1
ttfb_at_commit_ms = 80
error_at_commit = 0.002
cache_hit_at_commit = 0.97
ttfb_at_ceiling_ms = 80
error_at_ceiling = 0.002
cache_hit_at_ceiling = 0.97
[cdn.a]
commit_gbps = 300
ceiling_gbps = 1000
[cdn.b]
commit_gbps = 400
`)
	res := mustRun(t, sc, nil)
	a, b := res.Summary.CDNs[0], res.Summary.CDNs[1]
	if math.Abs(a.SaturationAudience-100000) > 1e-6 || math.Abs(a.BaselineShare-0.75) > 1e-12 {
		t.Fatalf("analytic saturation of a = %g (share %g), want 100000", a.SaturationAudience, a.BaselineShare)
	}
	if math.Abs(float64(a.ObservedSaturation)-100000) > 2000 {
		t.Errorf("the simulation filled a's commit at %d viewers, want 100,000 ± 2 %%", a.ObservedSaturation)
	}
	// b: 1 Mbit/s per viewer fills 400 Gbit/s at 400,000, beyond the peak.
	if math.Abs(b.SaturationAudience-400000) > 1e-6 || b.ObservedSaturation != 0 || b.SheddingAudience != 0 {
		t.Errorf("b: saturation %g observed %d shedding %g", b.SaturationAudience, b.ObservedSaturation, b.SheddingAudience)
	}
	if math.Abs(a.BaselinePeakUtilisation-2) > 1e-9 {
		t.Errorf("a at the peak on the baseline = %g, want 2", a.BaselinePeakUtilisation)
	}
}

func TestSheddingPointFollowsThePolicy(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, `
[audience]
points = [{ at = "0m", viewers = 0 }, { at = "1m", viewers = 1 }]
[region.kr]
share = 1
bitrate_mbps = 5
`)
	// In kr, c has 30 % at 5 Mbit/s: 1.5 Mbit/s per viewer against a
	// commit of 200 Gbit/s: full at 133,333; the engine starts shedding
	// at capacity_soft (0.85) of it.
	s := sc.CDNSaturation(2)
	if math.Abs(s.Audience-200e3/1.5) > 1e-6 || math.Abs(s.Shedding-0.85*200e3/1.5) > 1e-6 {
		t.Errorf("saturation %+v", s)
	}
}
