package qoe

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

const confidencePolicy = `[server]
dns = ["127.0.0.1:0"]
http = ""
[regions]
kr = ["KR"]
us = ["US"]
[cdn.akamai]
target = "a.cdn.example.net"
[cdn.cloudfront]
target = "c.cdn.example.net"
[cdn.fastly]
target = "f.cdn.example.net"
[policy.p.region.default]
weights = { akamai = 40, cloudfront = 35, fastly = 25 }
[[zone]]
origin = "example.com."
ns = ["ns1.example.com."]
[[zone.record]]
name = "ns1"
type = "A"
value = "192.0.2.1"
[[zone.steer]]
name = "live"
policy = "p"
`

// rig is the real engine fed by a collector, one evaluation a second of
// virtual time, as serve runs them.
type rig struct {
	t       *testing.T
	snap    *zones.Snapshot
	engine  *health.Engine
	c       *Collector
	now     time.Time
	regions map[string]int
	cdns    map[string]int
}

func newRig(t *testing.T) *rig {
	snap, err := zones.Parse("policy.toml", []byte(confidencePolicy))
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, snap: snap, engine: health.NewEngine(snap.Health(), nil), c: NewCollector(nil),
		now: time.Unix(1.8e9, 0), regions: map[string]int{}, cdns: map[string]int{}}
	var topo Topology
	for i, c := range snap.CDNs {
		topo.CDNs, topo.Pathways = append(topo.CDNs, c.Name), append(topo.Pathways, c.Name)
		r.cdns[c.Name] = i
	}
	for i, reg := range snap.Regions {
		topo.Regions = append(topo.Regions, reg.Name)
		r.regions[reg.Name] = i
	}
	r.c.Configure(Config{Sample: 1, Window: 30 * time.Second}, topo)
	r.engine.Evaluate(r.now)
	return r
}

// audience is sessions of one CDN in one region, a share of them
// stalling each second.
type audience struct {
	cdn, region string
	sessions    int
	stalling    float64
}

// second has every session of every audience report once (a time
// interval report with its throughput, TTFB and response code), then
// flushes, pushes and evaluates.
func (r *rig) second(auds ...audience) *health.Table {
	for _, a := range auds {
		stalls := int(math.Round(a.stalling * float64(a.sessions)))
		for s := range a.sessions {
			rep := Report{OT: []byte("v"), MTP: 8000, TTFB: 120, RC: 200, MSD: -1, Starved: s < stalls}
			sid := a.cdn + "/" + a.region + "/" + strconv.Itoa(s)
			if out := r.c.Add(&rep, Session([]byte(sid), nil), r.regions[a.region], r.cdns[a.cdn], r.now); out != Counted {
				r.t.Fatalf("report %v", out)
			}
		}
	}
	r.now = r.now.Add(time.Second)
	r.engine.Push(r.c.Flush(r.now)...)
	return r.engine.Evaluate(r.now)
}

func (r *rig) share(tb *health.Table, region, cdn string) float64 {
	ws := tb.Get(0, r.regions[region])
	var sum float64
	for _, w := range ws.W {
		sum += w
	}
	return ws.W[r.cdns[cdn]] / sum
}

func (r *rig) status(region, cdn string) health.Status {
	for _, s := range r.engine.Statuses() {
		if s.Region == region && s.CDN == cdn {
			return s.Status
		}
	}
	r.t.Fatalf("no status for %s in %s", cdn, region)
	return ""
}

// Five viewers in a quiet region all rebuffering move nothing: their few
// sessions are shrunk toward the CDN's many healthy ones elsewhere, and
// a region with fewer than min_samples sessions cannot degrade a CDN the
// rest of its audience shows healthy.
func TestFiveSessionsMoveNothing(t *testing.T) {
	r := newRig(t)
	healthy := []audience{
		{"akamai", "us", 3000, 0.01}, {"cloudfront", "us", 3000, 0.01}, {"fastly", "us", 3000, 0.01},
		{"akamai", "kr", 200, 0.01}, {"cloudfront", "kr", 200, 0.01},
	}
	var before float64
	for range 10 {
		before = r.share(r.second(append(healthy, audience{"fastly", "kr", 5, 0})...), "kr", "fastly")
	}
	for i := range 60 {
		tb := r.second(append(healthy, audience{"fastly", "kr", 5, 1})...)
		if got := r.share(tb, "kr", "fastly"); math.Abs(got-before) > 1e-9 || r.status("kr", "fastly") != health.Healthy {
			t.Fatalf("second %d of 5 sessions rebuffering: fastly's share in kr %.4f (was %.4f), %s", i, got, before, r.status("kr", "fastly"))
		}
	}
	// The same five in a region of their own, with enough company to be
	// judged alone, would have moved it: the control.
	for range 10 {
		r.second(append(healthy, audience{"fastly", "kr", 500, 1})...)
	}
	if r.status("kr", "fastly") != health.Degraded {
		t.Errorf("500 sessions all rebuffering: fastly %s in kr", r.status("kr", "fastly"))
	}
}

// Fifty thousand sessions of which 8 % rebuffer degrade the CDN in the
// usual reaction time: down_after evaluations from the first window that
// holds the stalls.
func TestFiftyThousandSessionsDegrade(t *testing.T) {
	if testing.Short() {
		t.Skip("half a million reports")
	}
	r := newRig(t)
	others := []audience{{"akamai", "kr", 20000, 0.01}, {"cloudfront", "kr", 20000, 0.01}, {"fastly", "us", 5000, 0.01}}
	for range 5 {
		r.second(append(others, audience{"fastly", "kr", 50000, 0.01})...)
	}
	if r.status("kr", "fastly") != health.Healthy {
		t.Fatalf("fastly %s in kr at 1 %% rebuffering", r.status("kr", "fastly"))
	}
	down := r.snap.Policies[0].Params.DownAfter
	for i := 1; ; i++ {
		tb := r.second(append(others, audience{"fastly", "kr", 50000, 0.08})...)
		if r.status("kr", "fastly") == health.Degraded {
			if r.share(tb, "kr", "fastly") != 0 {
				t.Errorf("degraded with a share of %v", r.share(tb, "kr", "fastly"))
			}
			if i > down {
				t.Errorf("degraded after %d evaluations, want %d", i, down)
			}
			break
		}
		if i > down+5 {
			t.Fatalf("fastly still %s in kr after %d evaluations at 8 %% rebuffering", r.status("kr", "fastly"), i)
		}
	}
	if r.status("us", "fastly") != health.Healthy {
		t.Errorf("fastly %s in us", r.status("us", "fastly"))
	}
}

// Five viewers who are all of a CDN's audience (the CDN reported on from
// one region only, as the demo's single player is) all rebuffering drain
// nothing either: the CDN as a whole has fewer than min_samples sessions,
// too few to speak for it, so the rebuffering share is not scored either
// (health/players.go).
// Forty sessions (past min_samples, 30) all rebuffering do degrade it:
// the control. One player's stall during a pathway switch in the demo
// degraded the CDN it had switched to, which moved it back.
func TestFewViewersOfAQuietCDNDrainNothing(t *testing.T) {
	r := newRig(t)
	healthy := []audience{{"akamai", "us", 3000, 0.01}, {"cloudfront", "us", 3000, 0.01}}
	for _, n := range []int{1, 5} {
		for i := range 60 {
			r.second(append(healthy, audience{"fastly", "kr", n, 1})...)
			if st := r.status("kr", "fastly"); st != health.Healthy {
				t.Fatalf("second %d of %d sessions, fastly's whole audience, rebuffering: fastly %s in kr", i, n, st)
			}
		}
	}
	for range 10 {
		r.second(append(healthy, audience{"fastly", "kr", 40, 1})...)
	}
	if r.status("kr", "fastly") != health.Degraded {
		t.Errorf("40 sessions all rebuffering: fastly %s in kr", r.status("kr", "fastly"))
	}
}
