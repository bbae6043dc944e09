package health

import (
	"math"
	"testing"
	"time"
)

// world is a closed loop for the capacity step: a demand per region, the
// engine's answers followed at once by everyone, and each CDN's
// delivered throughput per region and in all reported lag late.
type world struct {
	e      *Engine
	demand []float64 // Gbit/s per region
	lag    time.Duration
	sent   []Signal // throughput on its way
	// lump is what each CDN draws per share of a region, relative to
	// the others (resolvers move viewers in lumps); nil: 1 for all.
	lump []float64
}

func newWorld(cfg Config, demand []float64, lag time.Duration) *world {
	return &world{e: NewEngine(cfg, nil), demand: demand, lag: lag}
}

// step measures the split in force, delivers what is due and evaluates.
func (w *world) step(at time.Time) {
	cfg := w.e.cfg
	tab := w.e.Table()
	for c, cdn := range cfg.CDNs {
		total := 0.0
		for r, region := range cfg.Regions {
			share := shares(cfg.Policies[0].Baseline[r])[c]
			if tab != nil {
				share = tab.Get(0, r).W[c] / tab.Get(0, r).Total()
			}
			v := w.demand[r] * w.drawn(r, c, share)
			total += v
			w.sent = append(w.sent, Signal{CDN: cdn.Name, Region: region, Time: at, Source: "test", Values: Values{Throughput: F(v)}})
		}
		w.sent = append(w.sent, Signal{CDN: cdn.Name, Time: at, Source: "test", Values: Values{Throughput: F(total)}})
		w.e.Push(good(cdn.Name, at))
	}
	n := 0
	for n < len(w.sent) && !w.sent[n].Time.Add(w.lag).After(at) {
		w.e.Push(w.sent[n])
		n++
	}
	w.sent = w.sent[n:]
	w.e.Evaluate(at)
}

// drawn is the part of region r that CDN c carries with the share given
// to it: the share itself, or with lumps, the share weighted by its lump
// among the others'.
func (w *world) drawn(r, c int, share float64) float64 {
	if w.lump == nil {
		return share
	}
	tab, cfg := w.e.Table(), w.e.cfg
	all := 0.0
	for k := range cfg.CDNs {
		sk := shares(cfg.Policies[0].Baseline[r])[k]
		if tab != nil {
			sk = tab.Get(0, r).W[k] / tab.Get(0, r).Total()
		}
		all += sk * w.lump[k]
	}
	if all <= 0 {
		return 0
	}
	return share * w.lump[c] / all
}

// utilisation is what CDN c carries under the split in force ÷ its commit.
func (w *world) utilisation(c int) float64 {
	tab, cfg := w.e.Table(), w.e.cfg
	load := 0.0
	for r := range cfg.Regions {
		ws := tab.Get(0, r)
		load += w.demand[r] * w.drawn(r, c, ws.W[c]/ws.Total())
	}
	return load / cfg.CDNs[c].CommitGbps
}

// TestCapacityCountsTheLumpsOfALoadedCDN: edgio draws 1.4 times what its
// share of each region says (its resolvers are large ones), and near its
// commit. Planned by share alone it would settle at capacity_soft of its
// commit by the plan and 1.4 times that in fact, past its commit; with
// the gain it measurably draws it settles within its commit.
func TestCapacityCountsTheLumpsOfALoadedCDN(t *testing.T) {
	w := newWorld(capacityConfig(20*time.Second), []float64{500, 500}, 2*time.Second)
	w.lump = []float64{1, 1, 1.4, 1}
	at := t0
	worst := 0.0
	for i := range 300 {
		w.step(at)
		if i >= 120 {
			worst = math.Max(worst, w.utilisation(2))
		}
		at = at.Add(time.Second)
	}
	t.Logf("edgio at up to %.1f %% of its commit after two minutes", 100*worst)
	if worst > 1 {
		t.Errorf("edgio at %.1f %% of its commit, want within it", 100*worst)
	}
}

// capacityConfig is the test policy with load out of the score, as
// football.toml has it: the capacity step alone answers to load.
func capacityConfig(ttl time.Duration) Config {
	cfg := testConfig()
	cfg.Policies[0].TTL = ttl
	cfg.Policies[0].Params.Score[Throughput].Weight = 0
	cfg.CDNs[0].CommitGbps = 2000 // room for what edgio sheds
	return cfg
}

// TestCapacityHoldsAtTheSoftLimitWithoutHunting: edgio's baseline shares
// (20 % of the default region, 10 % of kr) put it at 150 Gbit/s, its
// whole commit. With throughput 10 s late the split must settle within
// the dead band of capacity_soft (85 %) and then stop moving: no CDN cut
// again for load its earlier cuts already moved.
func TestCapacityHoldsAtTheSoftLimitWithoutHunting(t *testing.T) {
	w := newWorld(capacityConfig(20*time.Second), []float64{500, 500}, 10*time.Second)
	at := t0
	for range 120 {
		w.step(at)
		at = at.Add(time.Second)
	}
	if u := w.utilisation(2); u < 0.8 || u > 0.9 {
		t.Errorf("edgio at %.3f of its commit after 2 minutes, want within the dead band of 0.85", u)
	}
	settled := append([]float64(nil), w.e.Table().Get(0, 0).W...)
	var highest float64
	for range 120 {
		w.step(at)
		at = at.Add(time.Second)
		highest = math.Max(highest, w.utilisation(2))
	}
	if now := w.e.Table().Get(0, 0).W; !equalWithin(now, settled, 1e-9) {
		t.Errorf("split moved under a flat demand: %v then %v", settled, now)
	}
	if highest > 0.9 {
		t.Errorf("edgio reached %.3f of its commit", highest)
	}
	if v := w.e.View(at).Policies[0].Regions[0].CDNs[2]; v.CapacityFactor >= 1 || v.UtilisationNow == nil {
		t.Errorf("view of edgio %+v: want a capacity factor under 1 and the planned utilisation", v)
	}
}

// TestCapacityRateLimit: a jump of demand puts edgio at 95 % of its
// commit, past the dead band but within capacity_hard; no evaluation may
// move more than capacity_max_move of its share per TTL. (Past
// capacity_hard it moves at once: TestCapacityPastHardMovesAtOnce.)
func TestCapacityRateLimit(t *testing.T) {
	cfg := capacityConfig(20 * time.Second)
	w := newWorld(cfg, []float64{300, 300}, 0)
	at := t0
	for range 10 {
		w.step(at)
		at = at.Add(time.Second)
	}
	w.demand = []float64{475, 475}
	p := cfg.Policies[0].Params
	prev := shares(w.e.Table().Get(0, 0).W)[2]
	for range 60 {
		w.step(at)
		at = at.Add(time.Second)
		now := shares(w.e.Table().Get(0, 0).W)[2]
		if lim := p.CapacityMaxMove * p.EvalInterval.Seconds() / 20 * prev; prev-now > lim+1e-9 {
			t.Fatalf("edgio's share fell from %.4f to %.4f in one evaluation, limit %.4f", prev, now, lim)
		}
		prev = now
	}
	if u := w.utilisation(2); u > 0.9 {
		t.Errorf("edgio still at %.3f of its commit after a minute", u)
	}
}

// TestCapacityPastHardMovesAtOnce: a jump of demand puts edgio at 150 %
// of its commit; it is cut to capacity_soft in one evaluation, not a
// quarter of its share per TTL.
func TestCapacityPastHardMovesAtOnce(t *testing.T) {
	w := newWorld(capacityConfig(20*time.Second), []float64{300, 300}, 0)
	at := t0
	for range 10 {
		w.step(at)
		at = at.Add(time.Second)
	}
	w.demand = []float64{750, 750}
	w.step(at)
	w.step(at.Add(time.Second))
	if u := w.utilisation(2); u > 0.85+1e-6 {
		t.Errorf("edgio at %.3f of its commit an evaluation after passing its hard limit", u)
	}
}

// TestLoadedAt: a CDN near its commit is loaded (the health step then
// leaves load-induced symptoms to the capacity step); a regional commit
// makes it loaded in that region only.
func TestLoadedAt(t *testing.T) {
	cfg := capacityConfig(20 * time.Second)
	cfg.RegionCommitGbps = map[string]map[string]float64{"fastly": {"kr": 60}}
	w := newWorld(cfg, []float64{300, 300}, 0)
	w.step(t0)
	w.step(t0.Add(time.Second))
	// edgio 90 of 150 (60 %); fastly 75 + 60 of 250, 60 of 60 in kr.
	if w.e.loadedAt("live", "default", "edgio") || w.e.loadedAt("live", "default", "fastly") {
		t.Error("a CDN at 60 % of its commit counts as loaded")
	}
	if !w.e.loadedAt("live", "kr", "fastly") {
		t.Error("fastly at its Korean commit is not loaded there")
	}
	w.demand = []float64{700, 700}
	w.step(t0.Add(2 * time.Second))
	if !w.e.loadedAt("live", "default", "edgio") {
		t.Error("edgio at 140 % of its commit is not loaded")
	}
}

// TestRecoveringRampIsAnAbsoluteCap: in kr every CDN but fastly is
// degraded and fastly is recovering at 2 % of its weight; it must take 2
// % of its baseline share, not the whole region. The rest fails open
// onto the least bad of the others.
func TestRecoveringRampIsAnAbsoluteCap(t *testing.T) {
	a := &allocation{
		demand: []float64{0}, follow: 1,
		want:  [][]float64{{0, 0, 0, 1}},
		capH:  [][]float64{{0, 0, 0, 0.02 * 0.2}},
		gated: [][]bool{{true, true, true, false}},
		rank:  [][]float64{{40, 10, 20, 90}},
		base:  [][]float64{{0.3, 0.4, 0.1, 0.2}},
		stuck: [][]float64{{0, 0, 0, 0}},
		soft:  inf(4), hard: inf(4), softR: [][]float64{inf(4)}, hardR: [][]float64{inf(4)},
	}
	out := a.allocate()
	if s := out.share[0]; math.Abs(s[3]-0.004) > 1e-9 || math.Abs(s[0]-0.996) > 1e-9 || !out.failOpen[0] {
		t.Errorf("split %v (fail open %v): want fastly at 0.004, the rest on akamai (the least bad), failing open", s, out.failOpen[0])
	}
}

// TestSpillRespectsHeadroom: Akamai is out; what it carried goes to the
// others in proportion to their room, none past capacity_hard, and
// nothing back to Akamai while another CDN has room.
func TestSpillRespectsHeadroom(t *testing.T) {
	a := &allocation{
		demand: []float64{5000, 4000}, follow: 1,
		want:  [][]float64{{0, 0.45, 0.3, 0.25}, {0, 0.35, 0.15, 0.5}},
		capH:  [][]float64{{0, 1, 1, 1}, {0, 1, 1, 1}},
		gated: [][]bool{{true, false, false, false}, {true, false, false, false}},
		rank:  [][]float64{{0, 100, 100, 100}, {0, 100, 100, 100}},
		base:  [][]float64{{0.35, 0.3, 0.2, 0.15}, {0.35, 0.25, 0.15, 0.25}},
		stuck: [][]float64{{0, 0, 0, 0}, {0, 0, 0, 0}},
		soft:  []float64{3600, 4400, 1040, 2800}, hard: []float64{4500, 5500, 1300, 3500},
		softR: [][]float64{{inf1, inf1, inf1, 1280}, inf(4)}, hardR: [][]float64{{inf1, inf1, inf1, 1600}, inf(4)},
	}
	out := a.allocate()
	load := a.loads(out.share)
	for c := range load {
		if load[c] > a.hard[c]*(1+1e-9) {
			t.Errorf("cdn %d at %.0f Gbit/s, over its hard limit %.0f", c, load[c], a.hard[c])
		}
	}
	if kr := a.demand[0] * out.share[0][3]; kr > 1600*(1+1e-9) {
		t.Errorf("fastly carries %.0f Gbit/s in the region committed at 1600", kr)
	}
	if out.share[0][0] != 0 || out.share[1][0] != 0 || out.failOpen[0] || out.failOpen[1] {
		t.Errorf("akamai got %v and %v of the regions (fail open %v)", out.share[0][0], out.share[1][0], out.failOpen)
	}
}

var inf1 = math.Inf(1)

func inf(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = inf1
	}
	return out
}

func equalWithin(a, b []float64, eps float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > eps {
			return false
		}
	}
	return true
}
