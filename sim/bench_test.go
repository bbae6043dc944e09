package sim

import (
	"testing"
	"time"
)

// BenchmarkFootball3h simulates three hours of the football example at
// one-second steps: 1.8 M viewers at the peak, 6 regions, 4 CDNs, about
// 21,000 cached answers, 10,800 engine evaluations. The example
// activates a plan and its policy lowers the TTL for the match, so each
// iteration is three runs, as `cdnsteer simulate` makes them: the match,
// and the same without the plan and without the TTL change (compare.go).
// Run it on one core:
//
//	go test -run - -bench Football3h -benchtime 3x -cpu 1 ./sim
func BenchmarkFootball3h(b *testing.B) {
	for b.Loop() {
		sc := footballScenario(b)
		sc.Duration, sc.Step = 3*time.Hour, time.Second
		res := mustRun(b, sc, nil)
		if res.Summary.PeakAudience != 1800000 {
			b.Fatalf("peak %d", res.Summary.PeakAudience)
		}
	}
}

// BenchmarkFootball3hWrite adds writing every output, the report included.
func BenchmarkFootball3hWrite(b *testing.B) {
	for b.Loop() {
		sc := footballScenario(b)
		sc.Duration, sc.Step = 3*time.Hour, time.Second
		if err := mustRun(b, sc, nil).Write(b.TempDir()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFootball3hOnce is BenchmarkFootball3h without the
// counterfactuals: one run.
func BenchmarkFootball3hOnce(b *testing.B) {
	for b.Loop() {
		sc := footballScenario(b)
		sc.Duration, sc.Step, sc.Compare = 3*time.Hour, time.Second, false
		if res := mustRun(b, sc, nil); res.Summary.Counterfactuals != nil {
			b.Fatal("counterfactuals run")
		}
	}
}
