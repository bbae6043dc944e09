package health

import (
	"testing"
	"time"
)

// A player on a healthy CDN stays there even when its score sits a few
// points under full marks (its weight then under the policy's), and
// leaves a recovering one: content steering moves sessions for a status,
// not for score noise. Holds drove no such decision before: a weight
// under the policy's moved the player (the demo's players went back to a
// CDN the moment its drain ended).
func TestHoldsFollowsStatusNotScore(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	const edgio, fastly = 2, 3
	slowEdgio := func(cdn string, at time.Time) Signal {
		s := good(cdn, at)
		if cdn == "edgio" {
			s.Values[TTFB] = F(290)
			s.Values[ErrorRate] = F(0.015)
			s.Values[CacheHit] = F(0.6)
		}
		return s
	}
	at := run(e, t0, 20, slowEdgio)
	ws := e.Table().Get(0, 0)
	base := testConfig().Policies[0].Baseline[0]
	if !(ws.W[edgio] > 0 && ws.W[edgio]/ws.Total() < base[edgio]/sum(base)*0.999) {
		t.Fatalf("edgio's share %.4f is not under its policy share %.4f: the case is not set up", ws.W[edgio]/ws.Total(), base[edgio]/sum(base))
	}
	if !ws.Holds(edgio) {
		t.Error("a healthy edgio a few points under full marks does not hold its players")
	}

	at = run(e, at, 10, fastlyBadFrom(at))
	if ws := e.Table().Get(0, 0); ws.Holds(fastly) || ws.W[fastly] != 0 {
		t.Fatalf("degraded fastly: weight %v, holds %v", ws.W[fastly], ws.Holds(fastly))
	}
	sawRecovering := false
	for i := 0; i < 90; i++ {
		at = run(e, at, 1, allGood)
		ws := e.Table().Get(0, 0)
		st := e.cdnState("live", "default", "fastly")
		if st.status == Recovering && ws.W[fastly] > 0 {
			sawRecovering = true
			if ws.Holds(fastly) {
				t.Fatalf("recovering fastly at weight %.2f holds its players", ws.W[fastly])
			}
			for _, c := range []int{0, 1, edgio} {
				if !ws.Holds(c) {
					t.Fatalf("healthy CDN %d does not hold its players while fastly recovers", c)
				}
			}
		}
	}
	if !sawRecovering {
		t.Fatal("fastly was never seen recovering with weight")
	}
	if ws := e.Table().Get(0, 0); !ws.Holds(fastly) {
		t.Error("fastly, healthy again, does not hold its players")
	}
}

func TestHoldsNeedsWeight(t *testing.T) {
	ws := NewWeights([]string{"a", "b"}, []float64{1, 0})
	if !ws.Holds(0) || ws.Holds(1) || ws.Holds(-1) || ws.Holds(2) {
		t.Errorf("Holds without marks: %v %v %v %v", ws.Holds(0), ws.Holds(1), ws.Holds(-1), ws.Holds(2))
	}
}
