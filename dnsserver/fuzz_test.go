package dnsserver

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// FuzzRespond feeds arbitrary packets to the handler: it must never panic
// (Respond recovers, so a recovered panic is counted and checked here), and
// whatever it answers must decode and carry the query's ID.
func FuzzRespond(f *testing.F) {
	seeds := []*dns.Msg{
		steeredQuery(dns.TypeA),
		ecsQuery(1, 24, 0, []byte{203, 0, 113}),
		ecsQuery(2, 56, 0, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 2}),
	}
	for _, n := range []string{"live.example.com.", "x.sub.live.example.com.", "www.live.example.com.", "nope.live.example.com.", "example.org."} {
		for _, t := range []uint16{dns.TypeA, dns.TypeNS, dns.TypeANY, dns.TypeDS} {
			q := new(dns.Msg)
			q.SetQuestion(n, t)
			q.SetEdns0(1232, true)
			seeds = append(seeds, q)
		}
	}
	for _, q := range seeds {
		pkt, err := q.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pkt, false)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0xc0, 12}, true)

	h := testHandler(f)
	client := netip.MustParseAddr("192.0.2.1")
	f.Fuzz(func(t *testing.T, pkt []byte, tcp bool) {
		out := h.Respond(nil, pkt, client, tcp)
		if got := testutilCount(h); got != 0 {
			t.Fatalf("the handler panicked on %x", pkt)
		}
		if out == nil {
			return
		}
		if len(pkt) >= 2 && (out[0] != pkt[0] || out[1] != pkt[1]) {
			t.Fatalf("reply ID %x differs from query ID %x", out[:2], pkt[:2])
		}
		var r dns.Msg
		if err := r.Unpack(out); err != nil {
			t.Fatalf("reply to %x does not decode: %v", pkt, err)
		}
		if !r.Response {
			t.Fatal("reply lacks QR")
		}
		if !tcp && len(out) > maxUDPSize {
			t.Fatalf("UDP reply of %d bytes", len(out))
		}
	})
}
