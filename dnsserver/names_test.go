package dnsserver

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
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

// TestUpperCaseValuesOverUDP: a referral carries the glue of a name
// server written in upper case (RFC 9471), and CNAMEs written in upper
// case are followed to their in-zone target, asked over a real socket.
func TestUpperCaseValuesOverUDP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(casePolicy), 0o600); err != nil {
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
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	ask := func(name string) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(q, s.Addrs()[0].String())
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
