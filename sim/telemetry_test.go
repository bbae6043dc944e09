package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestBinomialMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		n int64
		p float64
	}{
		{1, 0.3}, {5, 0.01}, {40, 0.3}, {60, 0.9}, {1000, 0.005}, {2000, 0.5}, {100000, 0.02},
	} {
		const draws = 20000
		sum, sum2 := 0.0, 0.0
		for range draws {
			x := binomial(rng, tc.n, tc.p)
			if x < 0 || x > tc.n {
				t.Fatalf("binomial(%d, %g) = %d", tc.n, tc.p, x)
			}
			sum += float64(x)
			sum2 += float64(x) * float64(x)
		}
		mean, variance := float64(tc.n)*tc.p, float64(tc.n)*tc.p*(1-tc.p)
		gotMean := sum / draws
		gotVar := sum2/draws - gotMean*gotMean
		if math.Abs(gotMean-mean) > 4*math.Sqrt(variance/draws) {
			t.Errorf("binomial(%d, %g): mean %g, want %g", tc.n, tc.p, gotMean, mean)
		}
		if math.Abs(gotVar-variance) > 0.08*variance {
			t.Errorf("binomial(%d, %g): variance %g, want %g", tc.n, tc.p, gotVar, variance)
		}
	}
	if binomial(rng, 10, 0) != 0 || binomial(rng, 10, 1) != 10 || binomial(rng, 0, 0.5) != 0 {
		t.Error("binomial's edge cases")
	}
}

func TestSampleMeanSpread(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []float64{1, 4, 100, 10000} {
		const draws, m = 40000, 90.0
		sum, sum2 := 0.0, 0.0
		for range draws {
			x := sampleMean(rng, n, m)
			if x <= 0 {
				t.Fatalf("sampleMean(%g, %g) = %g", n, m, x)
			}
			sum += x
			sum2 += x * x
		}
		mean := sum / draws
		sd := math.Sqrt(sum2/draws - mean*mean)
		want := ttfbCV * m / math.Sqrt(n)
		if math.Abs(mean-m) > 0.03*m || math.Abs(sd-want) > 0.1*want {
			t.Errorf("n = %g: mean %g sd %g, want %g and %g", n, mean, sd, m, want)
		}
	}
}

// measureOnce takes one measurement of a scenario in a made-up state and
// returns the per-region signals it queues.
func measureOnce(sc *Scenario, viewers [][]int64) []health.Signal {
	st := newStep(len(sc.Regions), len(sc.CDNs))
	st.Time = sc.Start
	for ri := range sc.Regions {
		for ci := range sc.CDNs {
			st.Viewers[ri][ci] = viewers[ri][ci]
			st.TTFBMs[ri][ci], st.ErrorRate[ri][ci], st.CacheHit[ri][ci] = 100, 0.01, 0.9
		}
	}
	tel := newTelemetry(sc)
	tel.measure(&st)
	var out []health.Signal
	for _, p := range tel.quality {
		out = append(out, p.sig)
	}
	return out
}

func TestSampledSignalsCarryTheirRequests(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	viewers := [][]int64{{0, 7, 3000}, {12, 600, 90000}} // default, kr × a, b, c
	doc := `
[audience]
points = [{ at = "0m", viewers = 10 }, { at = "10m", viewers = 10 }]
[telemetry]
interval = "5s"
requests_per_viewer_minute = 12
`
	// 12 requests a minute over 5 s: one request per viewer, and a
	// probe's one where nobody watches.
	sc := mustScenario(t, snap, doc+`noise = "samples"`)
	for _, s := range measureOnce(sc, viewers) {
		ri, ci := sc.Policy.Config.RegionIndex(s.Region), sc.Policy.Config.CDNIndex(s.CDN)
		if want := max(1, viewers[ri][ci]); int64(s.Samples) != want {
			t.Errorf("%s/%s: %d samples, want %d", s.CDN, s.Region, s.Samples, want)
		}
		// A rate measured over n requests is a whole number of them.
		if e := *s.Values[health.ErrorRate] * float64(s.Samples); math.Abs(e-math.Round(e)) > 1e-6 {
			t.Errorf("%s/%s: error rate %g is not a count of %d requests", s.CDN, s.Region, *s.Values[health.ErrorRate], s.Samples)
		}
	}
	// Fixed noise keeps counting viewers, as it always did.
	sc = mustScenario(t, snap, doc)
	for _, s := range measureOnce(sc, viewers) {
		ri, ci := sc.Policy.Config.RegionIndex(s.Region), sc.Policy.Config.CDNIndex(s.CDN)
		if want := max(1, viewers[ri][ci]); int64(s.Samples) != want {
			t.Errorf("fixed noise, %s/%s: %d samples, want %d", s.CDN, s.Region, s.Samples, want)
		}
	}
}

// quiet is a fault-free, steady audience split over both regions.
func quiet(viewers int, telemetry string) string {
	return fmt.Sprintf(`
duration = "30m"
[audience]
points = [{ at = "0m", viewers = %d }]
[region.kr]
share = 0.5
[region.default]
share = 0.5
[telemetry]
%s
`, viewers, telemetry)
}

func TestSampleNoiseDegradesSmallRegions(t *testing.T) {
	// min_samples = 1 trusts every count as the engine did before it
	// weighed them (health/confidence.go): the noise itself is what is
	// shown here; sim/targets_gates_test.go shows the engine riding it.
	snap := mustPolicy(t, twoRegions+"[policy.live.gate]\nmin_samples = 1\n")
	run := func(viewers int, telemetry string) int {
		return mustRun(t, mustScenario(t, snap, quiet(viewers, telemetry)), nil).Summary.Degradations
	}
	smallFixed, small, large := run(90, ""), run(90, `noise = "samples"`), run(90000, `noise = "samples"`)
	t.Logf("no fault, 30 minutes: 90 viewers: %d degradations under fixed noise, %d under sample noise; 90,000 viewers: %d", smallFixed, small, large)
	if small <= large || small <= smallFixed {
		t.Errorf("90 viewers under sample noise: %d degradations, want more than 90,000 viewers (%d) and than fixed noise (%d)", small, large, smallFixed)
	}
}

// burst is one region whose CDN b fails 8 % of requests from 4m to 6m;
// strict (the policy) takes a CDN out at such a rate.
const burst = `
duration = "10m"
[audience]
points = [{ at = "0m", viewers = 20000 }]
[region.kr]
share = 1
resolvers = 50
[[fault]]
cdn = "b"
start = "4m"
end = "6m"
error_rate = 0.08
`

// degradedBy lists the CDN/region pairs the decision log sends to
// degraded.
func degradedBy(res *Result) []string {
	var out []string
	for _, d := range res.Decisions {
		if d.Kind == health.DecisionState && d.To == string(health.Degraded) {
			out = append(out, d.CDN+"/"+d.Region)
		}
	}
	return out
}

const strict = "ttl = 20\ndown_threshold = 70\nup_threshold = 85"

func TestTelemetryFaultHidesErrorBurst(t *testing.T) {
	snap := mustPolicy(t, strings.Replace(twoRegions, "ttl = 20", strict, 1))
	for _, tc := range []struct {
		name, fault string
		hidden      bool
	}{
		{"no telemetry fault", "", false},
		{"b stopped", `cdn = "b"
mode = "stop"`, true},
		{"b's error rate frozen", `cdn = "b"
kinds = ["error_rate"]
mode = "freeze"`, true},
		{"b's error rate read as 0", `cdn = "b"
region = "kr"
kinds = ["error_rate"]
mode = "zero"`, true},
		// Other kinds, regions or CDNs leave the burst in sight.
		{"b's TTFB stopped", `cdn = "b"
kinds = ["ttfb_ms", "throughput_gbps"]
mode = "stop"`, false},
		{"b stopped in another region", `cdn = "b"
region = "default"
mode = "stop"`, false},
		{"a stopped", `cdn = "a"
mode = "stop"`, false},
	} {
		doc := burst
		if tc.fault != "" {
			doc += "[[telemetry_fault]]\nstart = \"3m\"\nend = \"8m\"\n" + tc.fault + "\n"
		}
		res := mustRun(t, mustScenario(t, snap, doc), nil)
		got := degradedBy(res)
		seen := strings.Contains(strings.Join(got, " "), "b/kr")
		if seen == tc.hidden {
			t.Errorf("%s: degraded %v; want b/kr degraded: %v", tc.name, got, !tc.hidden)
		}
	}
}

// filling is one region whose audience grows to 800 Gbit/s against
// commits of 400, 300 and 200 (the policy knows them): only shedding b
// and c to a keeps everyone served.
const filling = `
duration = "20m"
[audience]
points = [{ at = "0m", viewers = 0 }, { at = "8m", viewers = 160000 }]
[region.kr]
share = 1
resolvers = 50
`

// TestTelemetryFaultStallsThroughput: a throughput read as 0, or frozen
// at its early value, reaches the engine as such (before issue 15 both
// faults tripled the viewer-minutes saturated: b seemed empty and was
// never shed). A 0 while the split sends viewers to b is a stalled
// counter, dropped as missing. A frozen value is suspect only once the
// split moved under it (stallShareMove): the capacity controller plans
// from the demand of the region, not from b's own reading, and its dead
// band holds the split still, so the frozen value neither shows as a
// stall nor does harm; what is asserted of it is the harm.
func TestTelemetryFaultStallsThroughput(t *testing.T) {
	snap := mustPolicy(t, twoRegions+loadNotHealth)
	run := func(extra string) *Result {
		return mustRun(t, mustScenario(t, snap, filling+extra), nil)
	}
	stalls := func(res *Result) (n int) {
		for _, d := range res.Decisions {
			if d.Kind == health.DecisionStalled && d.CDN == "b" {
				n++
			}
		}
		return n
	}
	fault := func(mode string) string {
		return "[[telemetry_fault]]\ncdn = \"b\"\nkinds = [\"throughput_gbps\"]\nstart = \"1m\"\nend = \"20m\"\nmode = \"" + mode + "\"\n"
	}
	base := run("")
	if n := stalls(base); n != 0 {
		t.Errorf("no fault: %d stalled decisions for b, want 0", n)
	}
	for _, mode := range []string{"zero", "freeze"} {
		res := run(fault(mode))
		t.Logf("%s: %d stalled decisions for b; viewer-minutes saturated %.0f (no fault %.0f)",
			mode, stalls(res), res.Summary.ViewerMinutesSaturated, base.Summary.ViewerMinutesSaturated)
		switch mode {
		case "zero":
			if stalls(res) == 0 {
				t.Errorf("%s: the engine saw no stalled throughput for b", mode)
			}
		case "freeze":
			// A margin of a minute of a hundredth of the audience: the
			// run differs from the fault-free one in which resolvers
			// move when, not in whether b is shed.
			if res.Summary.ViewerMinutesSaturated > base.Summary.ViewerMinutesSaturated+1600 {
				t.Errorf("%s: %.0f viewer-minutes saturated, the fault-free run %.0f: the frozen value did harm",
					mode, res.Summary.ViewerMinutesSaturated, base.Summary.ViewerMinutesSaturated)
			}
		}
	}
}

// loadNotHealth puts the gates at the bad bounds: past its commit a CDN's
// errors and TTFB rise, and gates taking that for ill health would
// cascade the load from CDN to CDN (load apart from health is the
// capacity step's, issue 15); what the filling tests show is the
// telemetry.
const loadNotHealth = "[policy.live.gate]\nerror_rate = 0.1\nttfb_ms = 800\n"

func TestStampArrivalHidesLag(t *testing.T) {
	snap := mustPolicy(t, twoRegions+loadNotHealth)
	run := func(tel string) Summary {
		return mustRun(t, mustScenario(t, snap, filling+"[telemetry]\n"+tel), nil).Summary
	}
	measured := run("throughput_delay = \"30s\"")
	arrival := run("throughput_delay = \"30s\"\nstamp = \"arrival\"")
	t.Logf("throughput 30 s late: viewer-minutes saturated %.0f stamped when measured, %.0f stamped at arrival", measured.ViewerMinutesSaturated, arrival.ViewerMinutesSaturated)
	// Stamped at arrival the engine takes 30 s old traffic for the
	// present. The capacity step plans on each region's demand, which a
	// lag barely changes, not on the CDN's own load, which its last
	// moves do: arrival stamps must cost nothing. (Stamped when measured
	// the value is older than signal_max_age and does not count.)
	if arrival.ViewerMinutesSaturated > measured.ViewerMinutesSaturated {
		t.Errorf("viewer-minutes saturated %.0f stamped at arrival, %.0f when measured: want no more at arrival", arrival.ViewerMinutesSaturated, measured.ViewerMinutesSaturated)
	}
	// Without a lag the two stamps are the same.
	if a, m := run("stamp = \"arrival\""), run(""); a.ViewerMinutesSaturated != m.ViewerMinutesSaturated || a.Shifts != m.Shifts {
		t.Errorf("no lag: %+v stamped at arrival, %+v when measured", a, m)
	}
}

func TestFaultStateModes(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, `
[audience]
points = [{ at = "0m", viewers = 10 }, { at = "10m", viewers = 10 }]
[[telemetry_fault]]
cdn = "b"
region = "kr"
kinds = ["ttfb_ms"]
start = "2m"
end = "4m"
mode = "freeze"
[[telemetry_fault]]
cdn = "b"
kinds = ["error_rate", "ttfb_ms"]
start = "3m"
end = "5m"
mode = "zero"
[[telemetry_fault]]
cdn = "b"
start = "3m30s"
duration = "1m"
mode = "stop"
`)
	fs := newFaultState(sc)
	kr, b := sc.Policy.Config.RegionIndex("kr"), sc.Policy.Config.CDNIndex("b")
	at := func(elapsed time.Duration, ttfb float64) []string {
		sig := health.Signal{Values: health.Values{health.TTFB: health.F(ttfb), health.ErrorRate: health.F(0.01)}}
		if !fs.apply(&sig, elapsed, b, kr) {
			return nil
		}
		var out []string
		for k, v := range sig.Values {
			if v != nil {
				out = append(out, fmt.Sprintf("%s=%g", health.Kind(k).Key(), *v))
			}
		}
		return out
	}
	for _, tc := range []struct {
		at   time.Duration
		ttfb float64
		want string
	}{
		{time.Minute, 80, "ttfb_ms=80 error_rate=0.01"},
		{2 * time.Minute, 500, "ttfb_ms=80 error_rate=0.01"}, // frozen at the last delivered
		{3 * time.Minute, 500, "ttfb_ms=0 error_rate=0"},     // zero outranks freeze
		{3*time.Minute + 40*time.Second, 500, ""},            // stop outranks both
		{4*time.Minute + 40*time.Second, 500, "ttfb_ms=0 error_rate=0"},
		{5 * time.Minute, 500, "ttfb_ms=500 error_rate=0.01"},
	} {
		if got := strings.Join(at(tc.at, tc.ttfb), " "); got != tc.want {
			t.Errorf("at %s: %q, want %q", tc.at, got, tc.want)
		}
	}
	// The fault names itself by what it does, and says so on the timeline.
	if f := sc.Telemetry.Faults[2]; f.Name != "telemetry of b all regions: ttfb_ms, error_rate, cache_hit_ratio, throughput_gbps stopped for 1m0s" {
		t.Errorf("name %q", f.Name)
	}
	if f := sc.Telemetry.Faults[0]; f.Name != "telemetry of b kr: ttfb_ms frozen for 2m0s" {
		t.Errorf("name %q", f.Name)
	}
	var notes []string
	for _, n := range sc.Notes {
		if len(n.Tags) == 1 && n.Tags[0] == "telemetry" {
			notes = append(notes, n.At.String())
		}
	}
	if strings.Join(notes, " ") != "2m0s 3m0s 3m30s" {
		t.Errorf("telemetry notes at %v", notes)
	}
}

func TestTelemetryDefaults(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	points := "[audience]\npoints = [{ at = \"0m\", viewers = 10 }, { at = \"10m\", viewers = 10 }]\n"
	tm := mustScenario(t, snap, points).Telemetry
	if tm.NoiseModel != NoiseFixed || tm.Noise != DefaultNoise || tm.Stamp != StampMeasured || tm.RequestsPerViewerMinute != DefaultRequestsPerViewerMinute || tm.Faults != nil {
		t.Errorf("defaults %+v", tm)
	}
	tm = mustScenario(t, snap, points+"[telemetry]\nnoise = \"samples\"\nstamp = \"arrival\"\nrequests_per_viewer_minute = 20\n").Telemetry
	if tm.NoiseModel != NoiseSamples || tm.Stamp != StampArrival || tm.RequestsPerViewerMinute != 20 {
		t.Errorf("samples, arrival: %+v", tm)
	}
	// A whole number is a noise level too.
	if tm = mustScenario(t, snap, points+"[telemetry]\nnoise = 0\nstamp = \"measured\"\n").Telemetry; tm.NoiseModel != NoiseFixed || tm.Noise != 0 {
		t.Errorf("noise = 0: %+v", tm)
	}
}

func TestTelemetryScenarioErrors(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	head := "[audience]\npoints = [{ at = \"0m\", viewers = 10 }, { at = \"10m\", viewers = 10 }]\n" // lines 1-2
	for _, tc := range []struct{ doc, want string }{
		{"[telemetry]\nnoise = \"loud\"\n", `s.toml:4: telemetry.noise = "loud": give a relative noise (0..1) or "samples"`},
		{"[telemetry]\nnoise = 1.5\n", `s.toml:4: noise = 1.5 is outside 0..1`},
		{"[telemetry]\nnoise = true\n", `s.toml:4: telemetry.noise must be a relative noise (0..1) or "samples"`},
		{"[telemetry]\nstamp = \"sent\"\n", `s.toml:4: telemetry.stamp = "sent": give "measured" or "arrival"`},
		{"[telemetry]\nrequests_per_viewer_minute = 0\n", `s.toml:4: requests_per_viewer_minute = 0 is outside 0.01..6000`},
		{"[telemetry]\nwobble = 1\n", `s.toml:4: unknown key "telemetry.wobble"`},
		{"[[telemetry_fault]]\ncdn = \"zz\"\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\n", `s.toml:4: telemetry fault 1: unknown cdn "zz"`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nregion = \"mars\"\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\n", `s.toml:5: telemetry fault 1: unknown region "mars"`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nkinds = [\"latency\"]\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\n",
			`s.toml:5: telemetry fault 1: unknown kind "latency" (kinds: ttfb_ms, error_rate, cache_hit_ratio, throughput_gbps)`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nkinds = [\"download_mbps\"]\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\n",
			`s.toml:5: telemetry fault 1: the simulator does not measure download_mbps`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nregion = \"kr\"\nkinds = [\"throughput_gbps\"]\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\n",
			`s.toml:6: telemetry fault 1: throughput_gbps is reported for all regions at once, so a fault in region "kr" cannot touch it`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nstart = \"1m\"\nend = \"2m\"\n", `s.toml:3: telemetry fault 1 needs mode = "stop", "freeze" or "zero"`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nstart = \"1m\"\nend = \"2m\"\nmode = \"drop\"\n", `s.toml:7: telemetry fault 1: unknown mode "drop" (stop, freeze or zero)`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nend = \"2m\"\nmode = \"stop\"\n", `s.toml:3: telemetry fault 1 needs a start`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nstart = \"1m\"\nmode = \"stop\"\n", `s.toml:3: telemetry fault 1 needs an end or a duration`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nstart = \"1m\"\nend = \"2m\"\nduration = \"1m\"\nmode = \"stop\"\n", `s.toml:6: telemetry fault 1: give end or duration, not both`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nstart = \"2m\"\nend = \"1m\"\nmode = \"stop\"\n", `s.toml:3: telemetry fault 1 must end after it starts`},
		{"[[telemetry_fault]]\ncdn = \"a\"\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\n[[telemetry_fault]]\ncdn = \"a\"\nstart = \"1m\"\nend = \"2m\"\nmode = \"stop\"\nloudness = 3\n",
			`s.toml:13: unknown key "telemetry_fault.loudness"`},
	} {
		_, err := ParseScenario("s.toml", []byte(head+tc.doc), snap)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.doc, err, tc.want)
		}
	}
}
