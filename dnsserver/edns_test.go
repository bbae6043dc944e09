package dnsserver

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

func steeredQuery(qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", qtype)
	return q
}

func optOf(t *testing.T, r *dns.Msg) *dns.OPT {
	t.Helper()
	return r.IsEdns0()
}

func TestEDNSPresenceFollowsQuery(t *testing.T) {
	h := testHandler(t)
	r := exchange(t, h, steeredQuery(dns.TypeA), false)
	if optOf(t, r) != nil {
		t.Error("reply has an OPT but the query had none")
	}
	q := steeredQuery(dns.TypeA)
	q.SetEdns0(4096, true)
	r = exchange(t, h, q, false)
	opt := optOf(t, r)
	if opt == nil {
		t.Fatal("reply lacks OPT although the query had one")
	}
	if opt.UDPSize() != maxUDPSize || !opt.Do() || opt.Version() != 0 {
		t.Errorf("OPT = size %d do %v version %d, want %d true 0", opt.UDPSize(), opt.Do(), opt.Version(), maxUDPSize)
	}
}

func TestUnknownEDNSVersionIsBADVERS(t *testing.T) {
	h := testHandler(t)
	q := steeredQuery(dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().SetVersion(1)
	r := exchange(t, h, q, false)
	if r.Rcode != dns.RcodeBadVers {
		t.Fatalf("rcode = %s, want BADVERS", dns.RcodeToString[r.Rcode])
	}
	if opt := optOf(t, r); opt == nil || opt.Version() != 0 {
		t.Errorf("BADVERS reply must carry an OPT of version 0, got %v", opt)
	}
	if len(r.Answer) != 0 {
		t.Errorf("BADVERS reply has answers: %v", r.Answer)
	}
}

func TestUnknownOptionsAndFlagsAreIgnored(t *testing.T) {
	h := testHandler(t)
	q := steeredQuery(dns.TypeA)
	q.SetEdns0(1232, false)
	opt := q.IsEdns0()
	opt.Hdr.Ttl |= 0x4000 // an undefined EDNS flag bit
	opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}})
	r := exchange(t, h, q, false)
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("reply = %v, want a normal answer", r)
	}
	for _, o := range optOf(t, r).Option {
		if o.Option() == 65001 {
			t.Error("unknown option echoed back")
		}
	}
	if optOf(t, r).Hdr.Ttl&0x4000 != 0 {
		t.Error("unknown flag echoed back")
	}
}

func ecsQuery(family uint16, source, scope uint8, addr []byte) *dns.Msg {
	q := steeredQuery(dns.TypeA)
	q.SetEdns0(1232, false)
	data := make([]byte, 4, 4+len(addr))
	binary.BigEndian.PutUint16(data, family)
	data[2], data[3] = source, scope
	data = append(data, addr...)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: dns.EDNS0SUBNET, Data: data})
	return q
}

// TestECSEcho checks the echoed option and its scope. A steered answer is
// picked per /24 (/56) of the client subnet, so it says at least that;
// an answer that does not depend on the client says 0 (geo_test.go covers
// scopes decided by regions).
func TestECSEcho(t *testing.T) {
	h := testHandler(t)
	cases := []struct {
		name   string
		family uint16
		source uint8
		addr   []byte
		qname  string
		scope  uint8
	}{
		{"ipv4 /24", 1, 24, []byte{203, 0, 113}, "stream.live.example.com.", 24},
		{"ipv4 /22", 1, 22, []byte{203, 0, 112}, "stream.live.example.com.", 24},
		{"ipv4 /0", 1, 0, nil, "stream.live.example.com.", 0},
		{"ipv6 /56", 2, 56, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 2}, "stream.live.example.com.", 56},
		{"static answer", 1, 24, []byte{203, 0, 113}, "player.live.example.com.", 0},
		{"nxdomain", 1, 24, []byte{203, 0, 113}, "nope.live.example.com.", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := ecsQuery(tc.family, tc.source, 0, tc.addr)
			q.Question[0].Name = tc.qname
			r := exchange(t, h, q, false)
			var got *dns.EDNS0_SUBNET
			for _, o := range optOf(t, r).Option {
				if s, ok := o.(*dns.EDNS0_SUBNET); ok {
					got = s
				}
			}
			if got == nil {
				t.Fatal("ECS not echoed")
			}
			want := make(net.IP, 4)
			if tc.family == 2 {
				want = make(net.IP, 16)
			}
			copy(want, tc.addr)
			if got.Family != tc.family || got.SourceNetmask != tc.source || got.SourceScope != tc.scope || !got.Address.Equal(want) {
				t.Errorf("echo = %v, want family %d %v/%d scope %d", got, tc.family, want, tc.source, tc.scope)
			}
		})
	}
}

func TestMalformedECSIsFORMERR(t *testing.T) {
	h := testHandler(t)
	cases := []struct {
		name   string
		family uint16
		source uint8
		addr   []byte
	}{
		{"too many address octets", 1, 16, []byte{10, 1, 2}},
		{"too few address octets", 1, 24, []byte{10, 1}},
		{"bits set past the prefix", 1, 23, []byte{10, 1, 3}},
		{"prefix longer than the family", 1, 33, []byte{10, 1, 2, 3, 4}},
		{"unknown family", 3, 8, []byte{10}},
		{"ipv6 prefix too long", 2, 129, make([]byte, 17)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := exchange(t, h, ecsQuery(tc.family, tc.source, 0, tc.addr), false)
			if r == nil || r.Rcode != dns.RcodeFormatError {
				t.Fatalf("reply = %v, want FORMERR", r)
			}
		})
	}
	// Found by FuzzFastPathMatches: a query scope longer than the family.
	if r := exchange(t, h, ecsQuery(1, 24, 48, []byte{10, 1, 2}), false); r.Rcode != dns.RcodeFormatError {
		t.Errorf("scope 48 in an IPv4 query: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	q := ecsQuery(1, 24, 0, []byte{10, 1, 2})
	q.IsEdns0().Option = append(q.IsEdns0().Option, q.IsEdns0().Option[0])
	if r := exchange(t, h, q, false); r.Rcode != dns.RcodeFormatError {
		t.Errorf("two ECS options: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
}

func TestTruncation(t *testing.T) {
	h := testHandler(t)
	q := new(dns.Msg)
	q.SetQuestion("big.live.example.com.", dns.TypeTXT)
	r := exchange(t, h, q, false)
	if !r.Truncated {
		t.Errorf("a %d-byte answer over UDP without EDNS must be truncated", r.Len())
	}
	pkt, _ := q.Pack()
	if n := len(h.Respond(nil, pkt, testClient, false)); n > 512 {
		t.Errorf("UDP reply without EDNS is %d bytes, over 512", n)
	}
	r = exchange(t, h, q, true)
	if r.Truncated || len(r.Answer) != 3 {
		t.Errorf("TCP reply truncated=%v with %d answers, want the full answer", r.Truncated, len(r.Answer))
	}
	q.SetEdns0(4096, false)
	r = exchange(t, h, q, false)
	if r.Truncated || len(r.Answer) != 3 {
		t.Errorf("EDNS 4096 reply truncated=%v with %d answers, want the full answer", r.Truncated, len(r.Answer))
	}
	q.IsEdns0().SetUDPSize(600)
	r = exchange(t, h, q, false)
	pkt, _ = q.Pack()
	if n := len(h.Respond(nil, pkt, testClient, false)); !r.Truncated || n > 600 {
		t.Errorf("EDNS 600 reply truncated=%v len %d, want TC within 600 bytes", r.Truncated, n)
	}
}

func TestMalformedPackets(t *testing.T) {
	h := testHandler(t)
	good, _ := steeredQuery(dns.TypeA).Pack()

	if r := exchangeRaw(t, h, good[:11], false); r != nil {
		t.Error("a packet shorter than a header was answered")
	}
	resp := append([]byte(nil), good...)
	resp[2] |= 0x80
	if r := exchangeRaw(t, h, resp, false); r != nil {
		t.Error("a response packet was answered")
	}
	r := exchangeRaw(t, h, append(append([]byte(nil), good[:12]...), 0xff, 0xff, 0xff), false)
	if r == nil || r.Rcode != dns.RcodeFormatError || r.Id != binary.BigEndian.Uint16(good) {
		t.Errorf("garbage body: reply %v, want FORMERR with the query's ID", r)
	}

	two := steeredQuery(dns.TypeA)
	two.Question = append(two.Question, two.Question[0])
	if r := exchange(t, h, two, false); r.Rcode != dns.RcodeFormatError {
		t.Errorf("QDCOUNT 2: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	none := new(dns.Msg)
	none.Id = 7
	if r := exchange(t, h, none, false); r.Rcode != dns.RcodeFormatError {
		t.Errorf("QDCOUNT 0: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	withAnswer := steeredQuery(dns.TypeA)
	withAnswer.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "x.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(1, 2, 3, 4)}}
	if r := exchange(t, h, withAnswer, false); r.Rcode != dns.RcodeFormatError {
		t.Errorf("query with an answer: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
	twoOPT := steeredQuery(dns.TypeA)
	twoOPT.SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, twoOPT.Extra[0])
	if r := exchange(t, h, twoOPT, false); r.Rcode != dns.RcodeFormatError {
		t.Errorf("two OPT records: rcode %s, want FORMERR", dns.RcodeToString[r.Rcode])
	}
}

func TestOpcodesAndClasses(t *testing.T) {
	h := testHandler(t)
	for _, op := range []int{dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeStatus, dns.OpcodeIQuery, 15} {
		q := steeredQuery(dns.TypeA)
		q.Opcode = op
		r := exchange(t, h, q, false)
		if r == nil || r.Rcode != dns.RcodeNotImplemented || r.Opcode != op {
			t.Errorf("opcode %d: reply %v, want NOTIMP with the opcode echoed", op, r)
		}
	}
	for _, class := range []uint16{dns.ClassCHAOS, dns.ClassHESIOD, 0x1234} {
		q := steeredQuery(dns.TypeA)
		q.Question[0].Qclass = class
		if r := exchange(t, h, q, false); r.Rcode != dns.RcodeRefused {
			t.Errorf("class %d: rcode %s, want REFUSED", class, dns.RcodeToString[r.Rcode])
		}
	}
}

func TestChaosIdentity(t *testing.T) {
	h := testHandler(t)
	ask := func(h *Handler, name string, qtype uint16) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		q.Question[0].Qclass = dns.ClassCHAOS
		return exchange(t, h, q, false)
	}
	for _, name := range []string{"version.bind.", "id.server.", "hostname.bind.", "version.server."} {
		if r := ask(h, name, dns.TypeTXT); r.Rcode != dns.RcodeRefused {
			t.Errorf("%s with no answer configured: %s, want REFUSED", name, dns.RcodeToString[r.Rcode])
		}
	}
	snap, err := zones.Parse("testdata/chaos.toml", []byte(`
[server]
chaos_version = "cdnsteer test"
chaos_id = "ns1.test"
[cdn.a]
target = "a.example.net."
[policy.p.region.default]
weights = { a = 1 }
[[zone]]
origin = "z.example."
ns = ["ns.x."]
`))
	if err != nil {
		t.Fatal(err)
	}
	h.Install(snap, nil)
	for name, want := range map[string]string{"VERSION.bind.": "cdnsteer test", "version.server.": "cdnsteer test", "id.server.": "ns1.test", "hostname.bind.": "ns1.test"} {
		r := ask(h, name, dns.TypeTXT)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != want || r.Answer[0].Header().Class != dns.ClassCHAOS || r.Answer[0].Header().Name != name {
			t.Errorf("%s: %v, want TXT %q in class CH", name, r.Answer, want)
		}
	}
	if r := ask(h, "authors.bind.", dns.TypeTXT); r.Rcode != dns.RcodeRefused {
		t.Errorf("authors.bind: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	if r := ask(h, "version.bind.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Errorf("version.bind A: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

// Found by scripts/conformance.sh: an IXFR carries the client's SOA in
// its authority section and is refused like AXFR, not rejected as
// malformed; a question cut short of its type or class is malformed.
func TestTransfersAndShortQuestions(t *testing.T) {
	h := testHandler(t)
	q := new(dns.Msg)
	q.SetIxfr("live.example.com.", 1, "ns1.live.example.com.", "hostmaster.example.com.")
	if r := exchange(t, h, q, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("IXFR: %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
	q = new(dns.Msg)
	q.SetQuestion("live.example.com.", dns.TypeSOA)
	pkt, _ := q.Pack()
	for _, cut := range []int{2, 4} {
		r := exchangeRaw(t, h, pkt[:len(pkt)-cut], false)
		if r == nil || r.Rcode != dns.RcodeFormatError {
			t.Errorf("question missing %d bytes: %v, want FORMERR", cut, r)
		}
	}
}
