package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
)

// testutilCount is how many panics the handler has recovered from.
func testutilCount(h *Handler) float64 {
	return testutil.ToFloat64(h.metrics.panics)
}

func TestMetricsLintAndCount(t *testing.T) {
	h, reg := policyHandler(t, "testdata/policy.toml")
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

// TestRegionLookupCountedOncePerAnswer: the fast path looks the region up
// before it knows whether it can answer; when it hands the query to the
// general path (here: every CDN drained, SERVFAIL), the lookup must not
// count twice, and a query without an answer counts none.
func TestRegionLookupCountedOncePerAnswer(t *testing.T) {
	h := testHandler(t)
	lookups := func() float64 {
		n := 0.0
		for _, c := range h.metrics.geo {
			n += testutil.ToFloat64(c)
		}
		return n
	}
	names := []string{"akamai", "fastly", "edgio"}
	zero := health.NewWeights(names, []float64{0, 0, 0})
	h.SetLive(health.NewTable([][]*health.Weights{{zero}, {zero}}))
	q := new(dns.Msg)
	q.SetQuestion("one.live.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	if r := exchange(t, h, q, false); r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("every CDN at weight 0: rcode %s, want SERVFAIL", dns.RcodeToString[r.Rcode])
	}
	if n := lookups(); n != 0 {
		t.Errorf("a SERVFAIL counted %v region lookups, want 0", n)
	}
	h.SetLive(nil)
	if r := exchange(t, h, q, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("baseline weights: %v", r)
	}
	if n := lookups(); n != 1 {
		t.Errorf("one steered answer counted %v region lookups, want 1", n)
	}
}
