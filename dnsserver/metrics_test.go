package dnsserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
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
		{m.answers.WithLabelValues("default", "edgio"), 1},
		{m.answers.WithLabelValues("kr", "edgio"), 0},
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

// namesPolicy is a policy of n steered names, one policy each, ten names
// a zone, over the given regions and CDNs.
func namesPolicy(n int, regions, cdns []string) string {
	var b strings.Builder
	b.WriteString("[regions]\n")
	for i, r := range regions {
		fmt.Fprintf(&b, "%s = [%q]\n", r, []string{"KR", "JP", "DE", "FR"}[i%4])
	}
	b.WriteString("default = [\"*\"]\n")
	for _, c := range cdns {
		fmt.Fprintf(&b, "[cdn.%s]\ntarget = \"%s.example.net.\"\n", c, c)
	}
	for p := range n {
		fmt.Fprintf(&b, "[policy.p%d]\nttl = 20\n[policy.p%d.region.default]\nweights = {", p, p)
		for ci, c := range cdns {
			if ci > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, " %s = %d", c, 10+ci)
		}
		b.WriteString(" }\n")
	}
	for p := range n {
		if p%10 == 0 {
			fmt.Fprintf(&b, "[[zone]]\norigin = \"z%d.example.com.\"\nns = [\"ns1.example.net.\"]\n", p/10)
		}
		fmt.Fprintf(&b, "[[zone.steer]]\nname = \"m%d\"\npolicy = \"p%d\"\n", p, p)
	}
	return b.String()
}

// The nameserver's series do not grow with the steered names: 1 or 200
// names (20 zones) answering the same queries export the same series
// (issue 22: a policy label and every zone's unused type × rcode made
// 130,000 mostly zero series for 1,000 names).
func TestMetricsDoNotGrowWithNames(t *testing.T) {
	count := func(n int) map[string]int {
		snap, err := zones.Parse("names.toml", []byte(namesPolicy(n, []string{"kr", "jp", "eu"}, []string{"akamai", "fastly", "edgio"})))
		if err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		h := NewHandler(snap, NewMetrics(reg))
		q := new(dns.Msg)
		q.SetQuestion("m0.z0.example.com.", dns.TypeA)
		exchange(t, h, q, false)
		q.SetQuestion("nx.z0.example.com.", dns.TypeA)
		exchange(t, h, q, false)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, mf := range mfs {
			out[mf.GetName()] = len(mf.GetMetric())
		}
		return out
	}
	one, many := count(1), count(200)
	for name, n := range many {
		if n != one[name] {
			t.Errorf("%s: %d series with 1 name, %d with 200", name, one[name], n)
		}
	}
	if want := 4 * 3; many["cdnsteer_dns_answers_total"] != want {
		t.Errorf("cdnsteer_dns_answers_total: %d series, want %d (region × CDN)", many["cdnsteer_dns_answers_total"], want)
	}
	if many["cdnsteer_dns_queries_total"] != 2 {
		t.Errorf("cdnsteer_dns_queries_total: %d series, want the 2 that counted", many["cdnsteer_dns_queries_total"])
	}
}
