package dnsserver

import (
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkSigned times DO=0 and DO=1 queries to a signed zone: a steered
// name (the fast path, prepared signatures), a static name and NXDOMAIN.
func BenchmarkSigned(b *testing.B) {
	h, _ := clockHandler(b, signedPolicy(b, cskDir(b, dns.ECDSAP256SHA256)), nil)
	for _, tc := range []struct {
		name, qname string
		qtype       uint16
	}{{"steered", "stream.live.example.com.", dns.TypeA}, {"static", "player.live.example.com.", dns.TypeA}, {"nxdomain", "nope.live.example.com.", dns.TypeA}} {
		for _, do := range []bool{false, true} {
			label := tc.name + "/DO=0"
			if do {
				label = tc.name + "/DO=1"
			}
			b.Run(label, func(b *testing.B) {
				q := new(dns.Msg)
				q.SetQuestion(tc.qname, tc.qtype)
				q.SetEdns0(1232, do)
				benchHandler(b, h, q)
			})
		}
	}
}
