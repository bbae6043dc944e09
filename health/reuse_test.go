package health

import (
	"testing"
	"time"
)

// TestUnmovedWeightsAreKept holds Evaluate to publishing the weights of
// a region whose split did not move as the same *Weights, and new ones,
// with the new values, where it moved.
func TestUnmovedWeightsAreKept(t *testing.T) {
	cfg := manyPolicies(2, []string{"eu", "kr"}, benchCDNs())
	e := NewEngine(cfg, nil)
	push := func(at time.Time, krErrors float64) {
		for _, r := range cfg.Regions {
			for _, c := range cfg.CDNs {
				errs := 0.001
				if r == "kr" && c.Name == "cdn1" {
					errs = krErrors
				}
				e.Push(Signal{CDN: c.Name, Region: r, Time: at, Samples: 1000, Source: SourcePush,
					Values: Values{TTFB: F(80), ErrorRate: F(errs), CacheHit: F(0.96), Throughput: F(100)}})
			}
		}
	}
	var prev *Table
	for s := range 10 {
		at := t0.Add(time.Duration(s) * time.Second)
		push(at, 0.001)
		prev = e.Evaluate(at)
	}
	at := t0.Add(10 * time.Second)
	push(at, 0.001)
	same := e.Evaluate(at)
	for pi := range cfg.Policies {
		for ri := range cfg.Regions {
			if same.Get(pi, ri) != prev.Get(pi, ri) {
				t.Fatalf("policy %d region %d: a split that did not move was published anew (%v -> %v)", pi, ri, prev.Get(pi, ri).W, same.Get(pi, ri).W)
			}
		}
	}
	moved := same
	for s := 11; s < 20; s++ {
		at = t0.Add(time.Duration(s) * time.Second)
		push(at, 0.5)
		moved = e.Evaluate(at)
	}
	kr, eu := cfg.RegionIndex("kr"), cfg.RegionIndex("eu")
	for pi := range cfg.Policies {
		w := moved.Get(pi, kr)
		if w == same.Get(pi, kr) || w.W[1] != 0 {
			t.Fatalf("policy %d: cdn1 failing in kr left the published weights %v", pi, w.W)
		}
		if moved.Get(pi, eu) != same.Get(pi, eu) {
			t.Fatalf("policy %d: eu, which did not move, was published anew", pi)
		}
	}
}
