package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/zones"
)

// testutilCount is how many panics the handler has recovered from.
func testutilCount(h *Handler) float64 {
	return testutil.ToFloat64(h.metrics.panics)
}

func TestMetricsLintAndCount(t *testing.T) {
	reg := prometheus.NewRegistry()
	snap, err := zones.Load("testdata/policy.toml")
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(snap, NewMetrics(reg))
	q := new(dns.Msg)
	q.SetQuestion("one.live.example.com.", dns.TypeA)
	exchange(t, h, q, false)
	q.SetQuestion("nope.live.example.com.", dns.TypeAAAA)
	exchange(t, h, q, false)
	q.SetQuestion("example.org.", dns.TypeA)
	exchange(t, h, q, false)

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("metric %s: %s", p.Metric, p.Text)
	}
	m := h.metrics
	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.queries.WithLabelValues("live.example.com.", "A", "NOERROR"), 1},
		{m.queries.WithLabelValues("live.example.com.", "AAAA", "NXDOMAIN"), 1},
		{m.queries.WithLabelValues("", "A", "REFUSED"), 1},
		{m.answers.WithLabelValues("solo", "default", "edgio"), 1},
		{m.answers.WithLabelValues("live", "default", "edgio"), 0},
	}
	for _, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("%v = %v, want %v", c.c, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.duration); n != 2 {
		t.Errorf("duration histogram has %d series, want udp and tcp", n)
	}
}
