package dnsserver

import (
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

func testHandler(t testing.TB) *Handler {
	t.Helper()
	h, _ := policyHandler(t, "testdata/policy.toml")
	return h
}

// policyHandler is a handler for the policy file at path, with its own
// metrics registry.
func policyHandler(t testing.TB, path string) (*Handler, *prometheus.Registry) {
	t.Helper()
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatalf("load test policy: %v", err)
	}
	reg := prometheus.NewRegistry()
	return NewHandler(snap, NewMetrics(reg)), reg
}

var testClient = netip.MustParseAddr("192.0.2.1")

// exchange packs q, hands it to the handler as a packet and decodes the
// reply; nil means no reply.
func exchange(t testing.TB, h *Handler, q *dns.Msg, tcp bool) *dns.Msg {
	t.Helper()
	pkt, err := q.Pack()
	if err != nil {
		t.Fatalf("pack query: %v", err)
	}
	return exchangeRaw(t, h, pkt, tcp)
}

func exchangeRaw(t testing.TB, h *Handler, pkt []byte, tcp bool) *dns.Msg {
	t.Helper()
	out := h.Respond(make([]byte, 0, 512), pkt, testClient, tcp)
	if out == nil {
		return nil
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("reply does not decode: %v", err)
	}
	return r
}

func rrStrings(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

func norm(t *testing.T, rrs []string) []string {
	var out []string
	for _, s := range rrs {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", s, err)
		}
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	return out
}

func equalSets(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

const (
	soa     = "live.example.com. 3600 IN SOA ns1.live.example.com. hostmaster.example.com. 2026112701 14400 3600 1209600 60"
	negSOA  = "live.example.com. 60 IN SOA ns1.live.example.com. hostmaster.example.com. 2026112701 14400 3600 1209600 60"
	ns1A    = "ns1.live.example.com. 3600 IN A 192.0.2.53"
	ns1AAAA = "ns1.live.example.com. 3600 IN AAAA 2001:db8::53"
)

func TestHandlerRules(t *testing.T) {
	h := testHandler(t)
	cases := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		aa     bool
		answer []string
		ns     []string
		extra  []string
	}{
		{"apex SOA", "live.example.com.", dns.TypeSOA, dns.RcodeSuccess, true, []string{soa}, nil, nil},
		{"apex NS with in-zone glue only", "live.example.com.", dns.TypeNS, dns.RcodeSuccess, true,
			[]string{"live.example.com. 3600 IN NS ns1.live.example.com.", "live.example.com. 3600 IN NS ns2.elsewhere.example."},
			nil, []string{ns1A, ns1AAAA}},
		{"steered A", "one.live.example.com.", dns.TypeA, dns.RcodeSuccess, true, []string{"one.live.example.com. 5 IN CNAME e.cdn.example.net."}, nil, nil},
		{"steered AAAA", "one.live.example.com.", dns.TypeAAAA, dns.RcodeSuccess, true, []string{"one.live.example.com. 5 IN CNAME e.cdn.example.net."}, nil, nil},
		{"steered CNAME", "one.live.example.com.", dns.TypeCNAME, dns.RcodeSuccess, true, []string{"one.live.example.com. 5 IN CNAME e.cdn.example.net."}, nil, nil},
		{"steered ANY", "one.live.example.com.", dns.TypeANY, dns.RcodeSuccess, true, []string{"one.live.example.com. 5 IN CNAME e.cdn.example.net."}, nil, nil},
		{"steered HTTPS", "one.live.example.com.", dns.TypeHTTPS, dns.RcodeSuccess, true, []string{"one.live.example.com. 5 IN CNAME e.cdn.example.net."}, nil, nil},
		{"case preserved", "OnE.LiVe.ExAmPle.CoM.", dns.TypeA, dns.RcodeSuccess, true, []string{"OnE.LiVe.ExAmPle.CoM. 5 IN CNAME e.cdn.example.net."}, nil, nil},
		{"case preserved static", "PLAYER.live.example.com.", dns.TypeA, dns.RcodeSuccess, true, []string{"PLAYER.live.example.com. 3600 IN A 192.0.2.80"}, nil, nil},
		{"NXDOMAIN", "nope.live.example.com.", dns.TypeA, dns.RcodeNameError, true, nil, []string{negSOA}, nil},
		{"NXDOMAIN below steered", "x.one.live.example.com.", dns.TypeA, dns.RcodeNameError, true, nil, []string{negSOA}, nil},
		{"NODATA", "player.live.example.com.", dns.TypeAAAA, dns.RcodeSuccess, true, nil, []string{negSOA}, nil},
		{"empty non-terminal is NODATA", "deep.live.example.com.", dns.TypeA, dns.RcodeSuccess, true, nil, []string{negSOA}, nil},
		{"outside every zone", "example.org.", dns.TypeA, dns.RcodeRefused, false, nil, nil, nil},
		{"parent of a zone", "example.com.", dns.TypeSOA, dns.RcodeRefused, false, nil, nil, nil},
		{"in-zone CNAME chased", "www.live.example.com.", dns.TypeA, dns.RcodeSuccess, true,
			[]string{"www.live.example.com. 3600 IN CNAME player.live.example.com.", "player.live.example.com. 3600 IN A 192.0.2.80"}, nil, nil},
		{"CNAME asked for", "www.live.example.com.", dns.TypeCNAME, dns.RcodeSuccess, true,
			[]string{"www.live.example.com. 3600 IN CNAME player.live.example.com."}, nil, nil},
		{"CNAME to steered name", "alias.live.example.com.", dns.TypeA, dns.RcodeSuccess, true,
			[]string{"alias.live.example.com. 3600 IN CNAME stream.live.example.com."}, nil, nil},
		{"ANY is minimal", "live.example.com.", dns.TypeANY, dns.RcodeSuccess, true,
			[]string{"live.example.com. 3600 IN NS ns1.live.example.com.", "live.example.com. 3600 IN NS ns2.elsewhere.example."}, nil, []string{ns1A, ns1AAAA}},
		{"MX", "live.example.com.", dns.TypeMX, dns.RcodeSuccess, true, []string{"live.example.com. 3600 IN MX 10 mail.live.example.com."}, nil, nil},
		{"TXT", "live.example.com.", dns.TypeTXT, dns.RcodeSuccess, true, []string{`live.example.com. 3600 IN TXT "hello world"`}, nil, nil},
		{"referral below a cut", "x.sub.live.example.com.", dns.TypeA, dns.RcodeSuccess, false, nil,
			[]string{"sub.live.example.com. 3600 IN NS ns.sub.live.example.com."}, []string{"ns.sub.live.example.com. 3600 IN A 192.0.2.99"}},
		{"referral at the cut", "sub.live.example.com.", dns.TypeNS, dns.RcodeSuccess, false, nil,
			[]string{"sub.live.example.com. 3600 IN NS ns.sub.live.example.com."}, []string{"ns.sub.live.example.com. 3600 IN A 192.0.2.99"}},
		{"DS at the cut is ours", "sub.live.example.com.", dns.TypeDS, dns.RcodeSuccess, true, nil, []string{negSOA}, nil},
		{"AXFR refused", "live.example.com.", dns.TypeAXFR, dns.RcodeRefused, false, nil, nil, nil},
		{"second zone", "other.test.", dns.TypeNS, dns.RcodeSuccess, true, []string{"other.test. 3600 IN NS ns1.live.example.com."}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(tc.qname, tc.qtype)
			q.RecursionDesired = true
			r := exchange(t, h, q, false)
			if r == nil {
				t.Fatal("no reply")
			}
			if r.Rcode != tc.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			}
			if r.Authoritative != tc.aa {
				t.Errorf("AA = %v, want %v", r.Authoritative, tc.aa)
			}
			if r.RecursionAvailable {
				t.Error("RA set; cdnsteer does not recurse")
			}
			if !r.RecursionDesired {
				t.Error("RD not copied from the query")
			}
			if r.Id != q.Id || len(r.Question) != 1 || r.Question[0].Name != tc.qname {
				t.Errorf("reply does not echo the query: id %d/%d question %v", r.Id, q.Id, r.Question)
			}
			if got, want := rrStrings(r.Answer), norm(t, tc.answer); tc.name != "CNAME to steered name" && !equalSets(got, want) {
				t.Errorf("answer = %q, want %q", got, want)
			}
			if got, want := rrStrings(r.Ns), norm(t, tc.ns); !equalSets(got, want) {
				t.Errorf("authority = %q, want %q", got, want)
			}
			if got, want := rrStrings(r.Extra), norm(t, tc.extra); !equalSets(got, want) {
				t.Errorf("additional = %q, want %q", got, want)
			}
		})
	}
}

func TestCNAMEToSteeredNameEndsInACDN(t *testing.T) {
	h := testHandler(t)
	q := new(dns.Msg)
	q.SetQuestion("alias.live.example.com.", dns.TypeA)
	r := exchange(t, h, q, false)
	if len(r.Answer) != 2 {
		t.Fatalf("answer = %v, want the alias CNAME and the steered CNAME", r.Answer)
	}
	second, ok := r.Answer[1].(*dns.CNAME)
	if !ok || second.Hdr.Name != "stream.live.example.com." || !strings.HasSuffix(second.Target, ".cdn.example.net.") || second.Hdr.Ttl != 20 {
		t.Errorf("second record = %v, want stream's CNAME to a CDN with TTL 20", r.Answer[1])
	}
}

func TestSteeredSplitFollowsWeights(t *testing.T) {
	h := testHandler(t)
	counts := map[string]int{}
	const n = 20000
	for i := 0; i < n; i++ {
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		addr := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0})
		pkt, _ := q.Pack()
		out := h.Respond(nil, pkt, addr, false)
		r := new(dns.Msg)
		if err := r.Unpack(out); err != nil || len(r.Answer) != 1 {
			t.Fatalf("query %d: %v %v", i, err, r)
		}
		counts[r.Answer[0].(*dns.CNAME).Target]++
	}
	want := map[string]float64{"a.cdn.example.net.": 0.5, "f.cdn.example.net.": 0.3, "e.cdn.example.net.": 0.2}
	for target, share := range want {
		got := float64(counts[target]) / n
		if math.Abs(got-share) > 0.02 {
			t.Errorf("%s got %.3f of answers, want %.2f±0.02 (counts %v)", target, got, share, counts)
		}
	}
}

func TestSameSubnetSameAnswer(t *testing.T) {
	h := testHandler(t)
	ask := func(client string) string {
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		pkt, _ := q.Pack()
		r := new(dns.Msg)
		if err := r.Unpack(h.Respond(nil, pkt, netip.MustParseAddr(client), false)); err != nil {
			t.Fatal(err)
		}
		return r.Answer[0].(*dns.CNAME).Target
	}
	for i := 0; i < 50; i++ {
		a := netip.AddrFrom4([4]byte{198, 18, byte(i), 1}).String()
		b := netip.AddrFrom4([4]byte{198, 18, byte(i), 200}).String()
		if ask(a) != ask(b) {
			t.Fatalf("%s and %s share a /24 but got different CDNs", a, b)
		}
	}
}

// TestLiveWeightsSteer checks the seam to the health engine: published
// live weights decide answers, and weights built for another CDN list are
// ignored in favour of the baseline.
func TestLiveWeightsSteer(t *testing.T) {
	h := testHandler(t)
	snap := h.State().Snap
	p := snap.PolicyByName("live")
	names := make([]string, len(snap.CDNs))
	for i, c := range snap.CDNs {
		names[i] = c.Name
	}
	only := func(cdn string) []float64 {
		w := make([]float64, len(names))
		for i, n := range names {
			if n == cdn {
				w[i] = 1
			}
		}
		return w
	}
	table := make([][]*health.Weights, len(snap.Policies))
	table[p.Index] = []*health.Weights{health.NewWeights(names, only("fastly"))}
	h.SetLive(health.NewTable(table))
	for i := 0; i < 50; i++ {
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		pkt, _ := q.Pack()
		r := new(dns.Msg)
		r.Unpack(h.Respond(nil, pkt, netip.AddrFrom4([4]byte{10, 0, byte(i), 1}), false))
		if got := r.Answer[0].(*dns.CNAME).Target; got != "f.cdn.example.net." {
			t.Fatalf("live weights say fastly only, answer %s", got)
		}
	}
	table[p.Index] = []*health.Weights{health.NewWeights([]string{"x"}, []float64{1})}
	h.SetLive(health.NewTable(table))
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	if r := exchange(t, h, q, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("mismatched live weights broke answers: %v", r)
	}
}
