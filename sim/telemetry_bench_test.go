package sim

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
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

// BenchmarkFootball3hStickySampleNoise is the sticky example's players
// and the rough telemetry together, as the budget states it:
//
//	go test -run - -bench Football3hStickySampleNoise -benchtime 3x -cpu 1 ./sim
func BenchmarkFootball3hStickySampleNoise(b *testing.B) {
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sc, err := LoadScenario("../zones/examples/football-sticky-scenario.toml", snap)
		if err != nil {
			b.Fatal(err)
		}
		sc.Duration, sc.Step = 3*time.Hour, time.Second
		sc.Telemetry.NoiseModel, sc.Telemetry.Stamp = NoiseSamples, StampArrival
		if res := mustRun(b, sc, nil); res.Summary.PeakAudience != 1800000 {
			b.Fatalf("peak %d", res.Summary.PeakAudience)
		}
	}
}
