package rrl

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := DefaultConfig()
	l, err := New(cfg, reg)
	if err != nil {
		t.Fatal(err)
	}
	now := int64(0)
	l.clock = func() int64 { return now }
	answers(l, 0, 100)                                                      // 20 pass, 40 slip, 40 drop
	send(l, client, ClassAnswer, []byte("other.example."), dns.TypeA, 0, 1) // a second key

	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
	want := `
# HELP cdnsteer_rrl_responses_total UDP responses seen by response rate limiting, by action (pass: sent; drop: not sent; slip: sent truncated; would_limit: sent under log_only, limited otherwise).
# TYPE cdnsteer_rrl_responses_total counter
cdnsteer_rrl_responses_total{action="drop"} 40
cdnsteer_rrl_responses_total{action="pass"} 21
cdnsteer_rrl_responses_total{action="slip"} 40
cdnsteer_rrl_responses_total{action="would_limit"} 0
# HELP cdnsteer_rrl_table_entries Keys (client network and response class) whose rate-limiting buckets are not back to full credit.
# TYPE cdnsteer_rrl_table_entries gauge
cdnsteer_rrl_table_entries 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	// Idle long enough to be back to full credit, the keys stop counting,
	// and the scrape clears their slots.
	now = 20 * second
	if n := testutil.ToFloat64(gaugeOnly{l}); n != 0 {
		t.Errorf("table_entries after the window = %v, want 0", n)
	}
	for i := range l.table().slots {
		if w := l.table().slots[i].Load(); w != 0 {
			t.Fatalf("slot %d not cleared: %#x", i, w)
		}
	}
	if _, err := New(cfg, reg); err == nil {
		t.Error("a second Limiter registered the same metrics")
	}
}

// gaugeOnly exposes just the entries gauge, for testutil.ToFloat64.
type gaugeOnly struct{ l *Limiter }

func (g gaugeOnly) Describe(ch chan<- *prometheus.Desc) { ch <- entriesDesc }
func (g gaugeOnly) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(entriesDesc, prometheus.GaugeValue, float64(g.l.entries()))
}
