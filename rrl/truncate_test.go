package rrl

import (
	"bytes"
	"net"
	"testing"

	"github.com/miekg/dns"
)

// bigResponse is a packed answer with every section filled and EDNS, the
// kind of response an amplifier would love.
func bigResponse(t testing.TB, rcode int) []byte {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	q.SetEdns0(1232, true)
	m := new(dns.Msg)
	m.SetRcode(q, rcode)
	m.Authoritative = true
	for i := range 10 {
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: "stream.live.example.com.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 20},
			A:   net.IPv4(192, 0, 2, byte(i)),
		})
	}
	m.Ns = append(m.Ns, &dns.NS{
		Hdr: dns.RR_Header{Name: "live.example.com.", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600},
		Ns:  "ns1.cdnsteer.example.",
	})
	m.Extra = append(m.Extra, &dns.TXT{
		Hdr: dns.RR_Header{Name: "ns1.cdnsteer.example.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 3600},
		Txt: []string{"padding padding padding padding"},
	})
	m.SetEdns0(1232, true)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestTruncate(t *testing.T) {
	for _, rcode := range []int{dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeRefused} {
		pkt := bigResponse(t, rcode)
		var orig dns.Msg
		if err := orig.Unpack(pkt); err != nil {
			t.Fatal(err)
		}
		out := Truncate(pkt)
		if &out[0] != &pkt[0] {
			t.Error("Truncate did not work in place")
		}
		var m dns.Msg
		if err := m.Unpack(out); err != nil {
			t.Fatalf("truncated response does not unpack: %v", err)
		}
		if !m.Truncated || !m.Response || !m.Authoritative || m.Id != orig.Id || m.Rcode != rcode {
			t.Errorf("header: %+v", m.MsgHdr)
		}
		if len(m.Question) != 1 || m.Question[0] != orig.Question[0] {
			t.Errorf("question: %v, want %v", m.Question, orig.Question)
		}
		if len(m.Answer)+len(m.Ns) != 0 || len(m.Extra) != 1 {
			t.Errorf("sections not emptied: %d/%d/%d", len(m.Answer), len(m.Ns), len(m.Extra))
		}
		// RFC 6891 §7: the reply to a query with an OPT has one.
		if opt := m.IsEdns0(); opt == nil || !opt.Do() || opt.UDPSize() != 1232 {
			t.Errorf("OPT not kept as it was: %v", m.Extra)
		}
		if want := 12 + len("stream.live.example.com.") + 1 + 4 + 11; len(out) != want {
			t.Errorf("truncated to %d bytes, want %d", len(out), want)
		}
	}
}

func TestTruncateOdd(t *testing.T) {
	hdr := func(qd uint16) []byte {
		return []byte{0xbe, 0xef, 0x84, 0x00, byte(qd >> 8), byte(qd), 0, 1, 0, 1, 0, 1}
	}
	q := func(name ...byte) []byte { return append(name, 0, 1, 0, 1) }
	for _, tc := range []struct {
		name string
		in   []byte
		qd   uint16
		size int
	}{
		{"short", []byte{1, 2, 3}, 0, 0},
		{"header only", hdr(0), 0, 12},
		{"root question", append(hdr(1), q(0)...), 1, 17},
		// A second question pointing back at the first one's name.
		{"compressed", append(append(hdr(2), q(1, 'a', 0)...), q(0xC0, 12)...), 2, 12 + 7 + 6},
		{"question cut short", append(hdr(1), 3, 'a', 'b'), 0, 12},
		{"type cut short", append(hdr(1), 1, 'a', 0, 0, 1), 0, 12},
		{"second question missing", append(hdr(2), q(1, 'a', 0)...), 1, 19},
		{"reserved label type", append(hdr(1), q(0x40)...), 0, 12},
	} {
		in := bytes.Clone(tc.in)
		out := Truncate(in)
		if len(out) != tc.size {
			t.Errorf("%s: %d bytes, want %d", tc.name, len(out), tc.size)
			continue
		}
		if len(out) < 12 {
			continue
		}
		if out[2]&0x02 == 0 {
			t.Errorf("%s: TC not set", tc.name)
		}
		if qd := uint16(out[4])<<8 | uint16(out[5]); qd != tc.qd {
			t.Errorf("%s: QDCOUNT %d, want %d", tc.name, qd, tc.qd)
		}
		if !bytes.Equal(out[6:12], make([]byte, 6)) {
			t.Errorf("%s: other counts not zeroed: %v", tc.name, out[6:12])
		}
	}
}

func FuzzTruncate(f *testing.F) {
	f.Add(bigResponse(f, dns.RcodeSuccess))
	f.Add([]byte{0, 0, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out := Truncate(bytes.Clone(pkt))
		if len(out) > len(pkt) {
			t.Fatalf("grew from %d to %d bytes", len(pkt), len(out))
		}
		if len(pkt) >= 12 && out[2]&0x02 == 0 {
			t.Fatal("TC not set")
		}
		// Whatever the input, the slip form has no records to amplify;
		// at most the OPT survives.
		var m dns.Msg
		if m.Unpack(out) == nil && (len(m.Answer)+len(m.Ns) != 0 || len(m.Extra) > 1 || len(m.Extra) == 1 && m.IsEdns0() == nil) {
			t.Fatal("records survived")
		}
	})
}
