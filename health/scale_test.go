package health

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkEvaluate1000Policies is one evaluation of 1,000 steered names
// (a policy each, 20 regions, 6 CDNs) with every CDN measured in every
// region (issue 22). Pooling each CDN's signals for every policy, region
// and CDN took it to 2.07 s of CPU; once per CDN, 0.94 s (scripts/scale.sh).
func BenchmarkEvaluate1000Policies(b *testing.B) {
	var regions []string
	for i := range 20 {
		regions = append(regions, fmt.Sprintf("r%02d", i))
	}
	var cdns []CDNInfo
	for i := range 6 {
		cdns = append(cdns, CDNInfo{Name: fmt.Sprintf("cdn%d", i), CommitGbps: 1000})
	}
	e := NewEngine(manyPolicies(1000, regions, cdns), nil)
	at := t0
	push := func() {
		for _, r := range regions {
			for _, c := range cdns {
				e.Push(Signal{CDN: c.Name, Region: r, Time: at, Samples: 1000, Source: SourcePush,
					Values: Values{TTFB: F(80), ErrorRate: F(0.002), CacheHit: F(0.96), Throughput: F(100)}})
			}
		}
	}
	push()
	e.Evaluate(at)
	b.ResetTimer()
	for b.Loop() {
		at = at.Add(time.Second)
		push()
		e.Evaluate(at)
	}
}
