package dnsserver

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// casePolicy writes its names in record values in upper case, as an
// operator copying from elsewhere might.
const casePolicy = `[server]
dns = ["127.0.0.1:0"]
[cdn.a]
target = "A.CDN.Example.NET"
[policy.p.region.default]
weights = { a = 1 }
[[zone]]
origin = "Z.Example."
ns = ["NS1.Z.Example."]
[[zone.record]]
name = "ns1"
type = "A"
value = "192.0.2.1"
[[zone.record]]
name = "sub2"
type = "NS"
value = "NS.sub2"
[[zone.record]]
name = "ns.sub2"
type = "A"
value = "192.0.2.7"
[[zone.record]]
name = "www"
type = "CNAME"
value = "Player"
[[zone.record]]
name = "Player"
type = "A"
value = "192.0.2.8"
[[zone.record]]
name = "alias"
type = "CNAME"
value = "STREAM.z.example."
[[zone.steer]]
name = "Stream"
policy = "p"
`

// servePolicy starts a server on loopback for the policy document doc.
func servePolicy(t *testing.T, doc string) netip.AddrPort {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	h, _ := policyHandler(t, path)
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 1, TCPIdleTimeout: time.Second})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s.Addrs()[0]
}

// TestLongestNamesOverUDP: names of exactly 255 octets, the most a policy
// may hold, are answered in replies that parse, by the fast path (lower
// case) and the general path (mixed case) alike.
func TestLongestNamesOverUDP(t *testing.T) {
	l := func(c string, n int) string { return strings.Repeat(c, n) }
	// 11 octets of z.example. and 244 of these make 255.
	steered := l("a", 63) + "." + l("b", 63) + "." + l("c", 63) + "." + l("d", 51) + ".z.example."
	target := l("e", 63) + "." + l("f", 63) + "." + l("g", 63) + "." + l("h", 61) + "."
	addr := servePolicy(t, strings.Replace(strings.Replace(casePolicy, "A.CDN.Example.NET", target, 1), `name = "Stream"`, `name = "`+steered+`"`, 1))
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	for _, qname := range []string{steered, strings.ToUpper(steered[:1]) + steered[1:]} {
		q := new(dns.Msg)
		q.SetQuestion(qname, dns.TypeA)
		// The reply is over 512 octets.
		q.SetEdns0(1232, false)
		r, _, err := c.Exchange(q, addr.String())
		if err != nil {
			t.Fatalf("%.8s…: %v", qname, err)
		}
		if len(r.Answer) != 1 || r.Answer[0].(*dns.CNAME).Target != target || r.Answer[0].Header().Name != qname {
			t.Errorf("%.8s…: answer %v", qname, r.Answer)
		}
	}
}

// TestUpperCaseValuesOverUDP: a referral carries the glue of a name
// server written in upper case (RFC 9471), and CNAMEs written in upper
// case are followed to their in-zone target, asked over a real socket.
func TestUpperCaseValuesOverUDP(t *testing.T) {
	addr := servePolicy(t, casePolicy)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	ask := func(name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(q, addr.String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r
	}
	cases := []struct {
		qname             string
		answer, ns, extra []string
	}{
		{"x.sub2.z.example.", nil,
			[]string{"sub2.z.example. 3600 IN NS ns.sub2.z.example."},
			[]string{"ns.sub2.z.example. 3600 IN A 192.0.2.7"}},
		{"www.z.example.",
			[]string{"www.z.example. 3600 IN CNAME player.z.example.", "player.z.example. 3600 IN A 192.0.2.8"}, nil, nil},
		{"alias.z.example.",
			[]string{"alias.z.example. 3600 IN CNAME stream.z.example.", "stream.z.example. 20 IN CNAME a.cdn.example.net."}, nil, nil},
	}
	for _, tc := range cases {
		r := ask(tc.qname)
		if r.Rcode != dns.RcodeSuccess {
			t.Errorf("%s: rcode %s", tc.qname, dns.RcodeToString[r.Rcode])
		}
		if got, want := rrStrings(r.Answer), norm(t, tc.answer); !equalSets(got, want) {
			t.Errorf("%s: answer = %q, want %q", tc.qname, got, want)
		}
		if got, want := rrStrings(r.Ns), norm(t, tc.ns); !equalSets(got, want) {
			t.Errorf("%s: authority = %q, want %q", tc.qname, got, want)
		}
		if got, want := rrStrings(r.Extra), norm(t, tc.extra); !equalSets(got, want) {
			t.Errorf("%s: additional = %q, want %q", tc.qname, got, want)
		}
	}
}
