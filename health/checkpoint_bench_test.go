package health

import (
	"encoding/json"
	"testing"
	"time"
)

// lastCheckpoint keeps the engine's last checkpoint.
type lastCheckpoint struct{ d Decision }

func (l *lastCheckpoint) Record(d Decision) {
	if d.Kind == DecisionCheckpoint {
		l.d = d
	}
}

// BenchmarkCheckpoint1000Policies is a minute's checkpoint at 1,000
// steered names (120,000 states): the engine's part (under its lock)
// and the decision log writer's, shaping and encoding the line, as a
// delta (nothing changed) and in full. cpu-ms are the process's CPU,
// the collector's included. Before deltas and the kept order, the
// engine's part was 183-207 ms and every line a 12.4 MB full one.
func BenchmarkCheckpoint1000Policies(b *testing.B) {
	cfg := manyPolicies(1000, benchRegions(), benchCDNs())
	last := &lastCheckpoint{}
	e := NewEngine(cfg, last)
	for _, r := range cfg.Regions {
		for _, c := range cfg.CDNs {
			e.Push(Signal{CDN: c.Name, Region: r, Time: t0, Samples: 1000, Source: SourcePush,
				Values: Values{TTFB: F(80), ErrorRate: F(0.002), CacheHit: F(0.96), Throughput: F(100)}})
		}
	}
	e.Evaluate(t0)
	e.Evaluate(t0.Add(time.Minute))
	if len(last.d.States) != 120000 {
		b.Fatalf("%d states", len(last.d.States))
	}
	var cd checkpointDelta
	cd.written(last.d, last.d, 0)
	var engine, delta, full time.Duration
	var deltaBytes, fullBytes int
	at := t0
	for b.Loop() {
		at = at.Add(time.Minute)
		c0 := cpuTime()
		e.checkpoint(at)
		c1 := cpuTime()
		line, _ := json.Marshal(cd.shape(last.d, 0))
		c2 := cpuTime()
		cd.full = true
		out := cd.shape(last.d, 0)
		fullLine, _ := json.Marshal(out)
		c3 := cpuTime()
		cd.written(last.d, out, 0) // the next delta follows this one
		engine, delta, full = engine+c1-c0, delta+c2-c1, full+c3-c2
		deltaBytes, fullBytes = len(line), len(fullLine)
	}
	n := float64(b.N)
	b.ReportMetric(float64(engine.Milliseconds())/n, "engine-cpu-ms/op")
	b.ReportMetric(float64(delta.Milliseconds())/n, "delta-cpu-ms/op")
	b.ReportMetric(float64(full.Milliseconds())/n, "full-cpu-ms/op")
	b.ReportMetric(float64(deltaBytes), "delta-bytes")
	b.ReportMetric(float64(fullBytes), "full-bytes")
}
