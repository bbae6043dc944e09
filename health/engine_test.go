package health

import (
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// memJournal keeps decisions in memory for assertions.
type memJournal struct {
	mu sync.Mutex
	ds []Decision
}

func (m *memJournal) Record(d Decision) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ds = append(m.ds, d)
}

func (m *memJournal) kinds(kind string) []Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Decision
	for _, d := range m.ds {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

var t0 = time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)

func testConfig() Config {
	return Config{
		CDNs:    []CDNInfo{{"akamai", 400}, {"cloudfront", 300}, {"edgio", 150}, {"fastly", 250}},
		Regions: []string{"default", "kr"},
		Policies: []PolicyInfo{{
			Name:     "live",
			Params:   DefaultParams(),
			Baseline: [][]float64{{40, 15, 20, 25}, {30, 40, 10, 20}},
		}},
	}
}

func good(cdn string, at time.Time) Signal {
	return Signal{CDN: cdn, Time: at, Values: Values{TTFB: F(120), ErrorRate: F(0.001), CacheHit: F(0.98)}, Source: "test"}
}

func bad(cdn string, at time.Time) Signal {
	return Signal{CDN: cdn, Time: at, Values: Values{TTFB: F(800), ErrorRate: F(1)}, Source: "test"}
}

// run pushes signals from make for every CDN and evaluates once a second
// for n seconds starting at start, returning the time after the last.
func run(e *Engine, start time.Time, n int, make func(cdn string, at time.Time) Signal) time.Time {
	at := start
	for i := 0; i < n; i++ {
		for _, c := range e.cfg.CDNs {
			if s := make(c.Name, at); s.CDN != "" {
				e.Push(s)
			}
		}
		e.Evaluate(at)
		at = at.Add(time.Second)
	}
	return at
}

func allGood(cdn string, at time.Time) Signal { return good(cdn, at) }

func fastlyBadFrom(from time.Time) func(string, time.Time) Signal {
	return func(cdn string, at time.Time) Signal {
		if cdn == "fastly" && !at.Before(from) {
			return bad(cdn, at)
		}
		return good(cdn, at)
	}
}

func weightOf(tab *Table, region int, cdn int) float64 { return tab.Get(0, region).W[cdn] }

func TestUnmeasuredCDNsServeTheBaseline(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	tab := e.Evaluate(t0)
	for ri, base := range testConfig().Policies[0].Baseline {
		for ci, w := range base {
			if got := weightOf(tab, ri, ci); got != w {
				t.Errorf("region %d cdn %d: weight %v before any signal, want the baseline %v", ri, ci, got, w)
			}
		}
	}
	if s := e.View(t0).Policies[0].Regions[0].CDNs[0].Status; s != Healthy {
		t.Errorf("status before any signal = %s, want healthy", s)
	}
}

func TestOneBadSampleMovesNothing(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 10, allGood)
	one := func(cdn string, ts time.Time) Signal {
		if cdn == "fastly" && ts.Equal(at) {
			return bad(cdn, ts)
		}
		return good(cdn, ts)
	}
	run(e, at, 10, one)
	if n := len(j.kinds(DecisionState)); n != 0 {
		t.Fatalf("one bad sample caused %d state changes: %+v", n, j.kinds(DecisionState))
	}
	if w := weightOf(e.Table(), 0, 3); w < 0.9*25 {
		t.Errorf("fastly weight %v after one bad sample, want about its baseline 25", w)
	}
}

func TestSustainedFailureDegradesWithinThreeEvaluations(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 10, allGood)
	failAt := at
	for i := 1; i <= 3; i++ {
		at = run(e, at, 1, fastlyBadFrom(failAt))
		if weightOf(e.Table(), 0, 3) == 0 {
			t.Logf("fastly out after %d evaluations", i)
			break
		}
		if i == 3 {
			t.Fatalf("fastly still has weight %v after 3 failing evaluations", weightOf(e.Table(), 0, 3))
		}
	}
	states := j.kinds(DecisionState)
	if len(states) != 2 || states[0].To != string(Degraded) || states[0].CDN != "fastly" {
		t.Fatalf("state decisions = %+v, want fastly degraded in both regions", states)
	}
	d := states[0]
	if d.Signals[ErrorRate.Key()] != 1 || d.Score == nil || !strings.Contains(d.Reason, "past its gate") {
		t.Errorf("decision lacks its evidence: %+v", d)
	}
	// The others share fastly's traffic in their baseline proportions.
	tab := e.Table()
	if r := weightOf(tab, 0, 0) / weightOf(tab, 0, 2); math.Abs(r-2) > 0.1 {
		t.Errorf("akamai/edgio = %.2f, want their baseline ratio 2", r)
	}
}

func TestRecoveryIsGradual(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	at := run(e, t0, 10, allGood)
	at = run(e, at, 10, fastlyBadFrom(at))
	if weightOf(e.Table(), 0, 3) != 0 {
		t.Fatal("fastly not degraded")
	}
	var shares []float64
	back := -1
	for i := 0; i < 90; i++ {
		at = run(e, at, 1, allGood)
		w := e.Table().Get(0, 0)
		s := w.W[3] / w.Total()
		shares = append(shares, s)
		if back < 0 && s >= 0.95*0.25 {
			back = i + 1
		}
	}
	if back < 0 {
		t.Fatalf("fastly never regained its share: %v", shares)
	}
	t.Logf("fastly back at its share after %d s", back)
	if back > 25 {
		t.Errorf("fastly took %d s to regain its share, want about 20 s (README)", back)
	}
	// No jump: between two evaluations the share grows by at most the
	// recovery step of the baseline share (plus rounding).
	for i := 1; i < len(shares); i++ {
		if shares[i]-shares[i-1] > 0.1*0.25+0.02 {
			t.Errorf("share jumped from %.3f to %.3f in one evaluation", shares[i-1], shares[i])
		}
	}
	first := -1
	for i, s := range shares {
		if s > 0 {
			first = i
			break
		}
	}
	if first < 4 {
		t.Errorf("fastly got traffic %d s after recovering; the up hysteresis should hold it back longer", first)
	}
}

func TestFailOpenWhenEveryCDNIsDown(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 5, allGood)
	run(e, at, 10, bad)
	tab := e.Table()
	for ci, w := range testConfig().Policies[0].Baseline[1] {
		if weightOf(tab, 1, ci) != w {
			t.Errorf("kr cdn %d: %v, want baseline %v when everything is down", ci, weightOf(tab, 1, ci), w)
		}
	}
	if len(j.kinds(DecisionFailOpen)) != 2 || !e.View(at).Policies[0].Regions[0].FailedOpen {
		t.Errorf("fail open not recorded: %v", j.kinds(DecisionFailOpen))
	}
}

func TestFailStaticHoldsThenDrifts(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 10, allGood)
	at = run(e, at, 10, fastlyBadFrom(at))
	held := weightOf(e.Table(), 0, 0)
	// Telemetry stops entirely.
	p := DefaultParams()
	silent := func(string, time.Time) Signal { return Signal{} }
	at = run(e, at, int(p.SignalMaxAge/time.Second)+2, silent)
	if w := weightOf(e.Table(), 0, 3); w > 1 {
		t.Errorf("fastly weight %v right after telemetry went stale, want still about 0 (held)", w)
	}
	if w := weightOf(e.Table(), 0, 0); math.Abs(w-held) > 1 {
		t.Errorf("akamai weight %v, want the held %v", w, held)
	}
	if len(j.kinds(DecisionStale)) == 0 {
		t.Error("stale telemetry not recorded")
	}
	// Half-way through the drift, half-way to the baseline.
	half := at.Add(p.StaticDrift / 2)
	e.Evaluate(half)
	if w := weightOf(e.Table(), 0, 3); math.Abs(w-12.5) > 1.5 {
		t.Errorf("fastly weight %v half-way through the drift, want about 12.5", w)
	}
	e.Evaluate(half.Add(p.StaticDrift))
	if w := weightOf(e.Table(), 0, 3); w != 25 {
		t.Errorf("fastly weight %v after the drift, want the baseline 25", w)
	}
}

func TestOverrides(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 3, allGood)

	drain, err := e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Region: "kr", Reason: "PoP issue", Expires: at.Add(10 * time.Minute)}, at)
	if err != nil {
		t.Fatal(err)
	}
	at = run(e, at, 1, allGood)
	if weightOf(e.Table(), 1, 0) != 0 || weightOf(e.Table(), 0, 0) == 0 {
		t.Error("drain of akamai in kr must zero it in kr only")
	}
	if v := e.View(at); v.Policies[0].Regions[1].CDNs[0].Status != Drained {
		t.Errorf("status of a drained CDN = %s", v.Policies[0].Regions[1].CDNs[0].Status)
	}

	pin, err := e.AddOverride(Override{Action: ActionPin, CDN: "edgio", Region: "default", Reason: "test", Expires: at.Add(time.Minute)}, at)
	if err != nil {
		t.Fatal(err)
	}
	at = run(e, at, 1, allGood)
	w := e.Table().Get(0, 0)
	if w.W[2] == 0 || w.Total() != w.W[2] {
		t.Errorf("pinned region weights = %v, want only edgio", w.W)
	}
	if err := e.DeleteOverride(pin.ID, at, "operator"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteOverride(pin.ID, at, "again"); err != ErrNotFound {
		t.Errorf("deleting twice = %v, want ErrNotFound", err)
	}

	_, err = e.AddOverride(Override{Action: ActionFreeze, Region: "default", Reason: "kick-off", Expires: at.Add(time.Minute)}, at)
	if err != nil {
		t.Fatal(err)
	}
	frozen := append([]float64(nil), e.Table().Get(0, 0).W...)
	at = run(e, at, 10, fastlyBadFrom(at))
	for ci := range frozen {
		if got := weightOf(e.Table(), 0, ci); got != frozen[ci] {
			t.Errorf("frozen weight %d moved from %v to %v", ci, frozen[ci], got)
		}
	}
	if weightOf(e.Table(), 1, 3) != 0 {
		t.Error("the freeze of default must not hold kr: fastly should be out there")
	}

	// Expiry: the drain ends by itself.
	at = at.Add(11 * time.Minute)
	e.Evaluate(at)
	for _, o := range e.Overrides(at) {
		if o.ID == drain.ID {
			t.Error("an expired drain is still in force")
		}
	}
	ended := j.kinds(DecisionOverrideEnd)
	if len(ended) < 2 || !strings.Contains(ended[len(ended)-1].Reason, "expired") {
		t.Errorf("override ends = %+v", ended)
	}
}

func TestOverrideValidation(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	future := t0.Add(time.Hour)
	for _, tc := range []struct {
		o     Override
		field string
	}{
		{Override{Action: "nuke", CDN: "akamai", Reason: "x", Expires: future}, "action"},
		{Override{Action: ActionDrain, Reason: "x", Expires: future}, "cdn"},
		{Override{Action: ActionDrain, CDN: "limelight", Reason: "x", Expires: future}, "cdn"},
		{Override{Action: ActionPin, CDN: "akamai", Reason: "x", Expires: future}, "region"},
		{Override{Action: ActionPin, CDN: "akamai", Region: "mars", Reason: "x", Expires: future}, "region"},
		{Override{Action: ActionDrain, CDN: "akamai", Policy: "vod", Reason: "x", Expires: future}, "policy"},
		{Override{Action: ActionDrain, CDN: "akamai", Reason: "x", Expires: t0}, "expires"},
		{Override{Action: ActionDrain, CDN: "akamai", Expires: future}, "reason"},
		{Override{Action: ActionFreeze, CDN: "akamai", Reason: "x", Expires: future}, "cdn"},
	} {
		_, err := e.AddOverride(tc.o, t0)
		fe, ok := err.(*keyerr.Error)
		if !ok || fe.Key != tc.field {
			t.Errorf("%+v: err %v, want a %s field error", tc.o, err, tc.field)
		}
	}
	if len(e.Overrides(t0)) != 0 {
		t.Error("a rejected override was kept")
	}
}

func TestWarmRestart(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 10, allGood)
	at = run(e, at, 10, fastlyBadFrom(at))
	e.AddOverride(Override{Action: ActionDrain, CDN: "edgio", Reason: "maintenance", Expires: at.Add(time.Hour)}, at)
	e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Reason: "short", Expires: at.Add(time.Second)}, at)
	at = at.Add(CheckpointInterval)
	e.Evaluate(at)
	j.Record(Decision{Time: at, Kind: DecisionAnnotation, Annotation: &Annotation{ID: "a1", Time: at, Text: "kick-off"}})

	restarted := NewEngine(testConfig(), nil)
	later := at.Add(5 * time.Second)
	notes := restarted.Restore(j.ds, later)
	if len(notes) != 1 || notes[0].Text != "kick-off" {
		t.Errorf("annotations = %+v", notes)
	}
	tab := restarted.Evaluate(later)
	if w := tab.Get(0, 0).W; w[3] != 0 || w[2] != 0 || w[0] == 0 {
		t.Errorf("after restart weights = %v, want fastly still degraded, edgio still drained, akamai's expired drain gone", w)
	}
	v := restarted.View(later)
	if s := v.Policies[0].Regions[0].CDNs[3].Status; s != Degraded {
		t.Errorf("fastly restarted as %s, want degraded", s)
	}
	if len(v.Overrides) != 1 || v.Overrides[0].CDN != "edgio" {
		t.Errorf("overrides after restart = %+v", v.Overrides)
	}
}

func BenchmarkEvaluate(b *testing.B) {
	cfg := Config{Policies: []PolicyInfo{{Name: "live", Params: DefaultParams()}}}
	for _, n := range []string{"akamai", "cloudfront", "edgio", "fastly"} {
		cfg.CDNs = append(cfg.CDNs, CDNInfo{n, 300})
	}
	for r := 0; r < 20; r++ {
		cfg.Regions = append(cfg.Regions, string(rune('a'+r)))
		cfg.Policies[0].Baseline = append(cfg.Policies[0].Baseline, []float64{40, 15, 20, 25})
	}
	e := NewEngine(cfg, nil)
	at := t0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, c := range cfg.CDNs {
			for _, r := range cfg.Regions {
				s := good(c.Name, at)
				s.Region = r
				e.Push(s)
			}
		}
		e.Evaluate(at)
		at = at.Add(time.Second)
	}
}

// TestOneBadSampleMovesNoTraffic checks every evaluation, not only the end:
// a single failed probe must not dent a CDN's share even briefly, and a
// failed first probe must not zero a CDN that was never measured.
func TestOneBadSampleMovesNoTraffic(t *testing.T) {
	for _, warm := range []bool{true, false} {
		e := NewEngine(testConfig(), nil)
		at := t0
		if warm {
			at = run(e, t0, 10, allGood)
		}
		before := weightOf(e.Evaluate(at), 0, 3)
		bad := at
		for i := 0; i < 10; i++ {
			at = run(e, at, 1, func(cdn string, ts time.Time) Signal {
				if cdn == "fastly" && ts.Equal(bad) {
					return Signal{CDN: cdn, Time: ts, Values: Values{TTFB: F(800), ErrorRate: F(1)}}
				}
				return good(cdn, ts)
			})
			if w := weightOf(e.Table(), 0, 3); w < 0.95*before {
				t.Fatalf("warm %v: evaluation %d after one bad sample, fastly weight %v (was %v)", warm, i, w, before)
			}
		}
	}
}

// TestReloadChangingCDNs reloads with a CDN removed and one added: drains
// of removed CDNs end (every one, not every other), and the engine keeps
// answering with the new CDN list.
func TestReloadChangingCDNs(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	at := run(e, t0, 3, allGood)
	for _, cdn := range []string{"edgio", "fastly", "akamai"} {
		if _, err := e.AddOverride(Override{Action: ActionDrain, CDN: cdn, Reason: "test", Expires: at.Add(time.Hour)}, at); err != nil {
			t.Fatal(err)
		}
	}
	e.AddOverride(Override{Action: ActionPin, CDN: "fastly", Region: "kr", Reason: "test", Expires: at.Add(time.Hour)}, at)
	cfg := testConfig()
	cfg.CDNs = []CDNInfo{{"akamai", 400}, {"cloudfront", 300}, {"limelight", 100}}
	for i := range cfg.Policies[0].Baseline {
		cfg.Policies[0].Baseline[i] = []float64{40, 30, 30}
	}
	e.SetConfig(cfg, at)
	left := e.Overrides(at)
	if len(left) != 1 || left[0].CDN != "akamai" {
		t.Fatalf("overrides after the reload: %+v, want only akamai's drain", left)
	}
	run(e, at, 2, allGood)
	w := e.Table().Get(0, 1).W
	if len(w) != 3 || w[0] != 0 || w[1] == 0 || w[2] == 0 {
		t.Errorf("kr weights after the reload = %v, want akamai drained and the others serving", w)
	}
	v := e.View(at)
	if n := len(v.Policies[0].Regions[1].CDNs); n != 3 {
		t.Errorf("view lists %d CDNs, want 3", n)
	}
}

// TestRestoreKeepsOverrideOrder restores two pins of one region: the one
// set first wins, as it did before the restart, every time.
func TestRestoreKeepsOverrideOrder(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := run(e, t0, 2, allGood)
	e.AddOverride(Override{Action: ActionPin, CDN: "edgio", Region: "kr", Reason: "first", Expires: at.Add(time.Hour)}, at)
	e.AddOverride(Override{Action: ActionPin, CDN: "fastly", Region: "kr", Reason: "second", Expires: at.Add(time.Hour)}, at.Add(time.Second))
	for i := 0; i < 30; i++ {
		r := NewEngine(testConfig(), nil)
		r.Restore(j.ds, at.Add(2*time.Second))
		if w := r.Evaluate(at.Add(2*time.Second)).Get(0, 1).W; w[2] == 0 {
			t.Fatalf("restore %d: kr pinned to %v, want edgio (pinned first)", i, w)
		}
	}
}
