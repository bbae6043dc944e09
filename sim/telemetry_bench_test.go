package sim

import (
	"testing"
	"time"
)

// BenchmarkFootball3hSampleNoise is BenchmarkFootball3h with the telemetry
// made rough: sample noise, arrival stamps and a stopped feed.
//
//	go test -run - -bench Football3hSampleNoise -benchtime 3x -cpu 1 ./sim
func BenchmarkFootball3hSampleNoise(b *testing.B) {
	for b.Loop() {
		sc := footballScenario(b)
		sc.Duration, sc.Step = 3*time.Hour, time.Second
		sc.Telemetry.NoiseModel, sc.Telemetry.Stamp = NoiseSamples, StampArrival
		sc.Telemetry.Faults = []TelemetryFault{{CDN: "fastly", Start: 131 * time.Minute, End: 137 * time.Minute, Mode: TelemetryStop,
			cdn: sc.Policy.Config.CDNIndex("fastly"), region: -1, kinds: 1<<16 - 1}}
		res := mustRun(b, sc, nil)
		if res.Summary.PeakAudience != 1800000 {
			b.Fatalf("peak %d", res.Summary.PeakAudience)
		}
	}
}
