package zones

import (
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// [policy.NAME.gate] takes the gates of the kinds that have one, the
// confidence keys, and dead_band, hold_down and hold_down_max beside the
// policy's other keys; a gate past the bad bound, or inside full marks,
// is an error at its line; a default gate the policy's own bounds leave
// no room for moves to the bad bound instead.
func TestGateKeys(t *testing.T) {
	snap, err := Parse("ok.toml", []byte(scorePolicy+"[policy.p]\ndead_band = 5\nhold_down = \"1m\"\nhold_down_max = \"20m\"\nscore.ttfb = { good = 100, bad = 300 }\n[policy.p.gate]\nerror_rate = 0.04\nconfidence = 0.99\nmin_samples = 100\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := snap.Health().Policies[0].Params
	if p.Gate[health.ErrorRate] != 0.04 || p.Confidence != 0.99 || p.MinSamples != 100 || p.DeadBand != 5 || p.HoldDown != time.Minute || p.HoldDownMax != 20*time.Minute {
		t.Errorf("gate keys not applied: %+v", p)
	}
	if p.Gate[health.TTFB] != 200 {
		t.Errorf("default TTFB gate under bounds 100..300 is good + %g, want + 200 (the bad bound)", p.Gate[health.TTFB])
	}

	_, err = Parse("bad.toml", []byte(scorePolicy+"[policy.p.gate]\nerror_rate = 0.2\nthroughput_gbps = 1\nttfb_ms = \"x\"\nconfidence = 1.5\nmin_samples = 0\nfoo = 1\n"))
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, line := range []string{
		`bad.toml:19: policy "p": gate.error_rate: 0.2 contradicts score.error_rate (good 0.01, bad 0.1)`,
		`bad.toml:20: unknown key "policy.p.gate.throughput_gbps"`,
		`bad.toml:21: policy "p": gate.ttfb_ms must be a number`,
		`bad.toml:22: policy "p": gate.confidence: 1.5 is outside [0.5, 1)`,
		`bad.toml:23: policy "p": gate.min_samples: 0 is outside`,
		`bad.toml:24: unknown key "policy.p.gate.foo"`,
	} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, got)
		}
	}
}
