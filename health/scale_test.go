package health

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// BenchmarkEvaluate1000Policies is one evaluation of 1,000 steered names
// (a policy each, 20 regions, 6 CDNs) with every CDN measured in every
// region (issue 22). Pooling each CDN's signals for every policy, region
// and CDN took it to 2.07 s of CPU; once per CDN, 0.94 s (scripts/scale.sh).
// State by position, evidence and verdicts shared by policies alike and
// allocations remembered (index.go, shared.go, allocate_memo.go): see
// README's Scale section. cpu-ms/op is the process's CPU (the collector's
// included) per evaluation, which a shared machine's wall time is not.
func BenchmarkEvaluate1000Policies(b *testing.B) {
	benchmarkEvaluate(b, manyPolicies(1000, benchRegions(), benchCDNs()))
}

// BenchmarkEvaluate1000DistinctPolicies is the same with no two policies
// alike (each its own min_samples and baseline): nothing is shared, the
// engine's worst case per policy, region and CDN, which zones' limit on
// their product (zones.MaxSteeredStates) is measured by.
func BenchmarkEvaluate1000DistinctPolicies(b *testing.B) {
	cfg := manyPolicies(1000, benchRegions(), benchCDNs())
	for i := range cfg.Policies {
		cfg.Policies[i].Params.MinSamples += i
		cfg.Policies[i].Baseline[0][0] += float64(i) / 1000
	}
	benchmarkEvaluate(b, cfg)
}

func benchRegions() []string {
	var regions []string
	for i := range 20 {
		regions = append(regions, fmt.Sprintf("r%02d", i))
	}
	return regions
}

func benchCDNs() []CDNInfo {
	var cdns []CDNInfo
	for i := range 6 {
		cdns = append(cdns, CDNInfo{Name: fmt.Sprintf("cdn%d", i), CommitGbps: 1000})
	}
	return cdns
}

func benchmarkEvaluate(b *testing.B, cfg Config) {
	e := NewEngine(cfg, nil)
	at := t0
	push := func() {
		for _, r := range cfg.Regions {
			for _, c := range cfg.CDNs {
				e.Push(Signal{CDN: c.Name, Region: r, Time: at, Samples: 1000, Source: SourcePush,
					Values: Values{TTFB: F(80), ErrorRate: F(0.002), CacheHit: F(0.96), Throughput: F(100)}})
			}
		}
	}
	push()
	e.Evaluate(at)
	var cpu time.Duration
	for b.Loop() {
		at = at.Add(time.Second)
		push()
		c0 := cpuTime()
		e.Evaluate(at)
		cpu += cpuTime() - c0
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
