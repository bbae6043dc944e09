package health

import (
	"math"
	"testing"
	"time"
)

func TestWilsonBounds(t *testing.T) {
	z := zScore(0.95)
	if math.Abs(z-1.6449) > 1e-3 {
		t.Fatalf("z(0.95) = %v", z)
	}
	lo, hi := bounds(GateRate, 0.03, 10000, z)
	if !(lo > 0.027 && lo < 0.0275 && hi > 0.0325 && hi < 0.033) {
		t.Errorf("3 %% of 10000: bounds %v..%v", lo, hi)
	}
	// Two beacons, one failed, are surely past a 2 % gate by their own
	// bound: it takes min_samples to keep them from speaking alone.
	if lo, _ := bounds(GateRate, 0.5, 2, z); !(lo > 0.1 && lo < 0.15) {
		t.Errorf("1 failure in 2 requests: lower bound %v", lo)
	}
	if lo, _ := bounds(GateMean, 500, 1, z); lo > 0 {
		t.Errorf("one request's TTFB: lower bound %v, want nothing to go on", lo)
	}
}

// kr pushes 3 % errors with a fast TTFB: the score stays above the down
// threshold but the error gate degrades it. default, with two beacons
// (one failed), is judged with the CDN's million requests elsewhere and
// keeps its status.
func TestGatesAndConfidence(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(testConfig(), j)
	at := t0
	for i := 0; i < 10; i++ {
		for _, c := range e.cfg.CDNs {
			s := Signal{CDN: c.Name, Region: "kr", Time: at, Samples: 100000, Values: Values{TTFB: F(90), ErrorRate: F(0.002), CacheHit: F(0.98)}}
			if c.Name == "fastly" {
				s.Values[ErrorRate] = F(0.03)
			}
			e.Push(s, Signal{CDN: c.Name, Region: "default", Time: at, Samples: 2, Values: Values{TTFB: F(90), ErrorRate: F(0.5)}})
		}
		e.Evaluate(at)
		at = at.Add(time.Second)
	}
	var got []string
	for _, d := range j.kinds(DecisionState) {
		got = append(got, d.CDN+"/"+d.Region+" "+d.To)
	}
	if len(got) != 1 || got[0] != "fastly/kr degraded" {
		t.Errorf("status changes %v, want fastly/kr degraded only", got)
	}
}

func TestHoldDownDoublesWithRelapses(t *testing.T) {
	p := DefaultParams()
	st := newCDNState()
	var got []int
	for i := 0; i < 7; i++ {
		st.degraded(t0.Add(time.Duration(i) * time.Minute))
		got = append(got, st.holdDown(&p))
	}
	want := []int{5, 30, 60, 120, 240, 480, 600}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("hold-downs %v, want %v", got, want)
		}
	}
	st.degraded(t0.Add(3 * time.Hour))
	if n := st.holdDown(&p); n != p.UpAfter {
		t.Errorf("hold-down %d after an hour without a relapse, want up_after", n)
	}
}

func TestDeadBand(t *testing.T) {
	p := DefaultParams()
	st := newCDNState()
	for _, c := range []struct{ in, want float64 }{{0.95, 1}, {0.8, 0.8}, {0.75, 0.8}, {0.62, 0.62}, {0.7, 0.62}, {0.93, 1}} {
		if got := st.deadBand(c.in, &p); got != c.want {
			t.Errorf("deadBand(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
