package health

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestMostGivenIsTheWindowsMaximum holds mostGiven's kept maxima and
// the splits it keeps to the plain scan it replaced: over random splits
// (rising, falling, held and noisy runs, NaN among them, two at one
// time, a CDN added midway) and windows,
// each CDN's answer equals the maximum over every split given within
// the window and the one in force before it.
func TestMostGivenIsTheWindowsMaximum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := range 200 {
		var cs capacityState
		nC := 1 + rng.IntN(10) // past the 8 kept inline too
		settle := time.Duration(1+rng.IntN(60)) * time.Second
		at := t0
		v := make([]float64, nC)
		var all []givenSplit // every split given, in the window as noteGiven kept it before
		for step := range 300 {
			// Now and then two evaluations at one time.
			at = at.Add(time.Duration(rng.IntN(3)) * time.Second)
			if step == 150 && run%4 == 0 {
				v = append(v, 0.1) // a reload added a CDN
			}
			for c := range v {
				if step%40 >= 20 {
					break // held: the dead band gives the same split
				}
				switch rng.IntN(4) {
				case 0:
					v[c] += 0.01 // rising
				case 1:
					v[c] -= 0.01 // falling
				case 2:
					v[c] = rng.Float64()
				}
				if rng.IntN(500) == 0 {
					v[c] = math.NaN()
				} else if math.IsNaN(v[c]) {
					v[c] = 0.5
				}
			}
			cs.noteGiven(v, at, settle)
			all = append(all, givenSplit{at: at, share: slices.Clone(v)})
			drop := 0
			for drop+1 < len(all) && at.Sub(all[drop+1].at) >= settle {
				drop++
			}
			all = all[drop:]
			for c := range len(v) + 1 {
				want := naiveMostGiven(all, c)
				if got := cs.mostGiven(c); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("run %d step %d CDN %d: mostGiven %v, the window's maximum %v", run, step, c, got, want)
				}
			}
		}
	}
}

// givenSplit is a region's split as given at a time.
type givenSplit struct {
	at    time.Time
	share []float64
}

func naiveMostGiven(recent []givenSplit, c int) float64 {
	if len(recent) == 0 {
		return 1
	}
	hi := 0.0
	for _, g := range recent {
		if c >= len(g.share) {
			return 1
		}
		hi = math.Max(hi, g.share[c])
	}
	return hi
}

// TestAssignedShareFollowsTheEvaluation holds the answered shares
// (stall.go) to the evaluations: summed once after each, they must be
// those of the weights now in force, not of the evaluation before.
func TestAssignedShareFollowsTheEvaluation(t *testing.T) {
	cfg := manyPolicies(3, []string{"eu", "kr"}, benchCDNs())
	e := NewEngine(cfg, nil)
	naive := func(cdn, region string) float64 {
		ci, total := cfg.CDNIndex(cdn), 0.0
		for pi := range cfg.Policies {
			for ri, r := range cfg.Regions {
				if region != "" && r != region {
					continue
				}
				if w := e.answering(pi, ri); sum(w) > 0 {
					total += w[ci] / sum(w)
				}
			}
		}
		return total
	}
	check := func(when string) {
		t.Helper()
		for _, c := range cfg.CDNs {
			for _, r := range []string{"", "eu", "kr", "nowhere"} {
				want := naive(c.Name, r)
				if r == "nowhere" {
					want = 0
				}
				if got := e.assignedShare(c.Name, r); got != want {
					t.Fatalf("%s: assignedShare(%s, %q) = %v, the weights in force give %v", when, c.Name, r, got, want)
				}
				if got := e.assigned(c.Name, r); got != (want > 0) {
					t.Fatalf("%s: assigned(%s, %q) = %v, want %v", when, c.Name, r, got, want > 0)
				}
			}
		}
	}
	check("before any evaluation")
	e.Evaluate(t0)
	check("after the first evaluation")
	// cdn0 fails everywhere: its share must fall at the next evaluation.
	before := e.assignedShare("cdn0", "eu")
	for s := 1; s <= 30; s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		for _, r := range cfg.Regions {
			for _, c := range cfg.CDNs {
				errs := 0.001
				if c.Name == "cdn0" {
					errs = 0.5
				}
				e.Push(Signal{CDN: c.Name, Region: r, Time: at, Samples: 1000, Source: SourcePush,
					Values: Values{TTFB: F(80), ErrorRate: F(errs), CacheHit: F(0.96), Throughput: F(100)}})
			}
		}
		e.Evaluate(at)
		check("after a failing evaluation")
	}
	if after := e.assignedShare("cdn0", "eu"); !(after < before) {
		t.Fatalf("cdn0's share in eu stayed %v -> %v while it failed", before, after)
	}
}
