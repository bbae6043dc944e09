package dnsserver

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// The wire tests ask a server listening on loopback with raw packets and
// read the replies as a client would.

// serveWire runs h on an ephemeral loopback port, UDP and TCP, for the
// test's duration, and returns its address.
func serveWire(t *testing.T, h *Handler) string {
	t.Helper()
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 1})
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s.Serve()
	t.Cleanup(func() { s.Shutdown(t.Context()) })
	return s.Addrs()[0].String()
}

// askUDP sends pkt to addr over UDP and returns the raw reply; it fails
// the test when none comes within two seconds.
func askUDP(t *testing.T, addr string, pkt []byte) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no reply: %v", err)
	}
	return buf[:n]
}

// askTCP is askUDP over TCP.
func askTCP(t *testing.T, addr string, pkt []byte) []byte {
	t.Helper()
	m, err := dnsTCPExchange(addr, pkt)
	if err != nil {
		t.Fatalf("tcp: %v", err)
	}
	return m
}

func dnsTCPExchange(addr string, pkt []byte) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	conn := &dns.Conn{Conn: c}
	if _, err := conn.Write(pkt); err != nil {
		return nil, err
	}
	return conn.ReadMsgHeader(nil)
}

func decode(t *testing.T, raw []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(raw); err != nil {
		t.Fatalf("reply %x does not decode: %v", raw, err)
	}
	return m
}

func pack(t *testing.T, m *dns.Msg) []byte {
	t.Helper()
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func ecsOf(m *dns.Msg) *dns.EDNS0_SUBNET {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				return s
			}
		}
	}
	return nil
}

// rawECSQuery is a query for name with an OPT of the given version
// holding the given options (code, data) as they are, however malformed.
func rawECSQuery(t *testing.T, name string, version uint8, options ...[]byte) []byte {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	pkt := pack(t, q)
	var rdata []byte
	for _, o := range options {
		rdata = append(rdata, o...)
	}
	pkt[11] = 1 // ARCOUNT
	pkt = append(pkt, 0, 0, 41, 0x04, 0xd0, 0, version, 0, 0, byte(len(rdata)>>8), byte(len(rdata)))
	return append(pkt, rdata...)
}

func option(code uint16, data ...byte) []byte {
	return append([]byte{byte(code >> 8), byte(code), byte(len(data) >> 8), byte(len(data))}, data...)
}

// TestEDNSErrorRepliesCarryOPT: RFC 6891 §7, a query with an OPT gets a
// reply with an OPT, errors included; and an OPT of a version we do not
// speak is BADVERS whatever its options hold (§6.1.3), since their format
// is the unknown version's.
func TestEDNSErrorRepliesCarryOPT(t *testing.T) {
	addr := serveWire(t, testHandler(t))
	ecs := func(b ...byte) []byte { return option(dns.EDNS0SUBNET, b...) }
	cases := []struct {
		name  string
		pkt   []byte
		rcode int
	}{
		{"ECS family 3", rawECSQuery(t, "stream.live.example.com.", 0, ecs(0, 3, 8, 0, 10)), dns.RcodeFormatError},
		{"ECS /24 with 4 octets", rawECSQuery(t, "stream.live.example.com.", 0, ecs(0, 1, 24, 0, 10, 1, 2, 0)), dns.RcodeFormatError},
		{"two ECS options", rawECSQuery(t, "stream.live.example.com.", 0, ecs(0, 1, 24, 0, 10, 1, 2), ecs(0, 1, 24, 0, 10, 1, 3)), dns.RcodeFormatError},
		{"ECS on a static name, family 3", rawECSQuery(t, "player.live.example.com.", 0, ecs(0, 3, 8, 0, 10)), dns.RcodeFormatError},
		{"version 1, ECS family 3", rawECSQuery(t, "stream.live.example.com.", 1, ecs(0, 3, 8, 0, 10)), dns.RcodeBadVers},
		{"version 1, option cut short", rawECSQuery(t, "stream.live.example.com.", 1, []byte{0, 8, 0, 8, 0, 1}), dns.RcodeBadVers},
		{"version 1, two ECS options", rawECSQuery(t, "stream.live.example.com.", 1, ecs(0, 1, 24, 0, 10, 1, 2), ecs(0, 1, 24, 0, 10, 1, 3)), dns.RcodeBadVers},
		{"version 1, well-formed", rawECSQuery(t, "stream.live.example.com.", 1, ecs(0, 1, 24, 0, 10, 1, 2)), dns.RcodeBadVers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, tcp := range []bool{false, true} {
				var raw []byte
				if tcp {
					raw = askTCP(t, addr, tc.pkt)
				} else {
					raw = askUDP(t, addr, tc.pkt)
				}
				r := decode(t, raw)
				if r.Rcode != tc.rcode {
					t.Errorf("tcp=%v: rcode %s, want %s", tcp, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
				}
				opt := r.IsEdns0()
				if opt == nil {
					t.Errorf("tcp=%v: %s reply without OPT to a query with one", tcp, dns.RcodeToString[r.Rcode])
					continue
				}
				if len(r.Question) != 1 {
					t.Errorf("tcp=%v: question %v not echoed", tcp, r.Question)
				}
				if opt.Version() != 0 || len(opt.Option) != 0 || len(r.Answer) != 0 {
					t.Errorf("tcp=%v: OPT version %d options %v, answer %v; want version 0, nothing echoed, no answer", tcp, opt.Version(), opt.Option, r.Answer)
				}
			}
		})
	}
}

// TestSlippedRepliesKeepOPT: a rate-limited reply sent truncated is still
// a reply to an EDNS query, on the fast path (steered, static) and the
// general path (NODATA) alike.
func TestSlippedRepliesKeepOPT(t *testing.T) {
	h, _ := rrlHandler(t, "[rrl]\nenabled = true\nresponses_per_second = 1\nslip = 1\n")
	addr := serveWire(t, h)
	for _, tc := range []struct {
		name  string
		qtype uint16
		ecs   bool
	}{
		{"stream.live.example.com.", dns.TypeA, true},
		{"stream.live.example.com.", dns.TypeA, false},
		{"player.live.example.com.", dns.TypeA, false},
		{"player.live.example.com.", dns.TypeMX, true},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, tc.qtype)
		q.SetEdns0(1232, true)
		if tc.ecs {
			q.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.IP{203, 0, 113, 0}}}
		}
		pkt := pack(t, q)
		slipped := 0
		// At one reply a second, all but the first few of 20 slip.
		for i := 0; i < 20 && slipped < 3; i++ {
			raw := askUDP(t, addr, pkt)
			r := decode(t, raw)
			if !r.Truncated {
				continue
			}
			slipped++
			opt := r.IsEdns0()
			if opt == nil || !opt.Do() || opt.Version() != 0 {
				t.Fatalf("%s %s: slipped reply %x has OPT %v, want one with DO", tc.name, dns.TypeToString[tc.qtype], raw, opt)
			}
			if len(r.Answer)+len(r.Ns) != 0 || len(r.Extra) != 1 {
				t.Errorf("%s: slipped reply keeps records: %v", tc.name, r)
			}
			if len(raw) > len(pkt) {
				t.Errorf("%s: slipped reply of %d bytes to a %d-byte query amplifies", tc.name, len(raw), len(pkt))
			}
		}
		if slipped == 0 {
			t.Fatalf("%s: no reply slipped at 1/s with slip 1", tc.name)
		}
	}
}

// TestEscapedDotIsPartOfALabel: `x\.live.example.com.` has the labels
// "x.live", "example" and "com": it is in no zone served here, however
// its presentation form ends.
func TestEscapedDotIsPartOfALabel(t *testing.T) {
	addr := serveWire(t, testHandler(t))
	for _, tc := range []struct {
		name  string
		rcode int
		aa    bool
	}{
		{`x\.live.example.com.`, dns.RcodeRefused, false},
		{`stream\.live.example.com.`, dns.RcodeRefused, false},
		{`a\.b.live.example.com.`, dns.RcodeNameError, true},
		{`x\\.live.example.com.`, dns.RcodeNameError, true},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, dns.TypeA)
		for _, tcp := range []bool{false, true} {
			var r *dns.Msg
			if tcp {
				r = decode(t, askTCP(t, addr, pack(t, q)))
			} else {
				r = decode(t, askUDP(t, addr, pack(t, q)))
			}
			if r.Rcode != tc.rcode || r.Authoritative != tc.aa {
				t.Errorf("%s tcp=%v: %s aa=%v, want %s aa=%v", tc.name, tcp, dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tc.rcode], tc.aa)
			}
			if tc.rcode == dns.RcodeRefused && len(r.Ns) != 0 {
				t.Errorf("%s: REFUSED with an authority section %v", tc.name, r.Ns)
			}
		}
	}
}

// TestMappedECSScopeCountsIPv6Bits: a family-2 subnet holding an
// IPv4-mapped address is steered by its IPv4 /24, so the scope echoed in
// family 2 is 96+24 bits; 24 would cover every mapped client and much of
// IPv6 besides (RFC 7871 §7.2.1). Fast and general path agree.
func TestMappedECSScopeCountsIPv6Bits(t *testing.T) {
	addr := serveWire(t, testHandler(t))
	mapped := netip.MustParseAddr("::ffff:10.82.7.0").AsSlice()
	for _, tc := range []struct {
		source, scope uint8
	}{{120, 120}, {112, 120}, {128, 120}} {
		subnet := &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2, SourceNetmask: tc.source, Address: mapped}
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		q.SetEdns0(1232, false)
		q.IsEdns0().Option = []dns.EDNS0{subnet}
		fast := askUDP(t, addr, pack(t, q))
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_LOCAL{Code: 65001})
		general := askUDP(t, addr, pack(t, q))
		if !bytes.Equal(fast, general) {
			t.Errorf("/%d: fast path %x, general path %x", tc.source, fast, general)
		}
		got := ecsOf(decode(t, general))
		if got == nil || got.Family != 2 || got.SourceNetmask != tc.source || got.SourceScope != tc.scope {
			t.Errorf("/%d: echo %v, want family 2 source %d scope %d", tc.source, got, tc.source, tc.scope)
		}
	}
	// Explain tells the scope the wire says.
	e, err := testHandler(t).Explain("stream.live.example.com.", testClient, netip.MustParsePrefix("::ffff:10.82.7.0/120"))
	if err != nil || e.Scope != 120 {
		t.Errorf("explain: %+v, %v; want scope 120", e, err)
	}
}

func wireHandler(t *testing.T) *Handler {
	h, _ := policyHandler(t, "testdata/wire.toml")
	return h
}

// TestOptionalGlueLeftOutWithoutTC: RFC 2181 §9, TC says that data the
// client needs did not fit. The addresses after an authoritative NS answer
// are optional: left out whole, without TC. A referral's glue for name
// servers below the cut is required (RFC 9471 §3): without it, TC.
func TestOptionalGlueLeftOutWithoutTC(t *testing.T) {
	addr := serveWire(t, wireHandler(t))
	q := new(dns.Msg)
	q.SetQuestion("live.example.com.", dns.TypeNS)
	raw := askUDP(t, addr, pack(t, q))
	r := decode(t, raw)
	if r.Truncated || len(r.Answer) != 10 || len(raw) > 512 {
		t.Errorf("apex NS over 512-byte UDP: TC=%v, %d NS, %d bytes; want no TC, all 10 NS", r.Truncated, len(r.Answer), len(raw))
	}
	if len(r.Extra) == 0 || len(r.Extra) == 20 {
		t.Errorf("apex NS: %d addresses; want some of the 20, not all (they do not fit)", len(r.Extra))
	}
	full := decode(t, askTCP(t, addr, pack(t, q)))
	if full.Truncated || len(full.Extra) != 20 {
		t.Fatalf("apex NS over TCP: TC=%v, %d addresses; want all 20", full.Truncated, len(full.Extra))
	}
	// The last RRsets are the ones left out.
	for i, rr := range r.Extra {
		if rr.String() != full.Extra[i].String() {
			t.Errorf("apex NS over UDP: address %d is %v, want %v", i, rr, full.Extra[i])
		}
	}

	q.SetQuestion("www.sub.live.example.com.", dns.TypeA)
	r = decode(t, askUDP(t, addr, pack(t, q)))
	if !r.Truncated || r.Authoritative {
		t.Errorf("referral whose required glue does not fit: TC=%v AA=%v, want TC and no AA", r.Truncated, r.Authoritative)
	}
	q.SetEdns0(1232, false)
	r = decode(t, askUDP(t, addr, pack(t, q)))
	if r.Truncated || len(r.Ns) != 10 || len(r.Extra) != 21 {
		t.Errorf("referral in 1232 bytes: TC=%v, %d NS, %d additional; want no TC, 10 NS, 20 glue and OPT", r.Truncated, len(r.Ns), len(r.Extra))
	}
}

// TestCNAMEChainEndsNegative: the rcode and authority of an answer that
// follows CNAMEs are those of the last name (RFC 6604 §3): a chain to a
// name that does not exist is NXDOMAIN, one to a name without the type is
// NODATA, and both carry the SOA for negative caching (RFC 2308).
func TestCNAMEChainEndsNegative(t *testing.T) {
	addr := serveWire(t, wireHandler(t))
	for _, tc := range []struct {
		name   string
		qtype  uint16
		rcode  int
		chain  int
		answer int
	}{
		{"dangling.live.example.com.", dns.TypeA, dns.RcodeNameError, 2, 2},
		{"hop.live.example.com.", dns.TypeAAAA, dns.RcodeNameError, 1, 1},
		{"www.live.example.com.", dns.TypeAAAA, dns.RcodeSuccess, 1, 1},
		{"www.live.example.com.", dns.TypeA, dns.RcodeSuccess, 1, 2},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, tc.qtype)
		for _, tcp := range []bool{false, true} {
			var r *dns.Msg
			if tcp {
				r = decode(t, askTCP(t, addr, pack(t, q)))
			} else {
				r = decode(t, askUDP(t, addr, pack(t, q)))
			}
			what := tc.name + " " + dns.TypeToString[tc.qtype]
			if r.Rcode != tc.rcode || !r.Authoritative {
				t.Errorf("%s: %s aa=%v, want %s aa", what, dns.RcodeToString[r.Rcode], r.Authoritative, dns.RcodeToString[tc.rcode])
			}
			cnames := 0
			for _, rr := range r.Answer {
				if rr.Header().Rrtype == dns.TypeCNAME {
					cnames++
				}
			}
			if cnames != tc.chain || len(r.Answer) != tc.answer {
				t.Errorf("%s: answer %v, want %d records of which %d CNAMEs", what, r.Answer, tc.answer, tc.chain)
			}
			negative := len(r.Answer) == tc.chain
			if soas := len(r.Ns); negative && (soas != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA || r.Ns[0].Header().Ttl != 60) {
				t.Errorf("%s: authority %v, want the SOA with TTL 60", what, r.Ns)
			} else if !negative && soas != 0 {
				t.Errorf("%s: authority %v in a positive answer", what, r.Ns)
			}
		}
	}
}

// TestTrailingBytesAreFORMERR: README, "any other malformed packet gets
// FORMERR"; bytes after the last record are such a packet. A parseable
// OPT before them still earns an OPT in the reply.
func TestTrailingBytesAreFORMERR(t *testing.T) {
	addr := serveWire(t, testHandler(t))
	for _, tc := range []struct {
		name string
		edns bool
	}{
		{"stream.live.example.com.", false}, {"stream.live.example.com.", true},
		{"player.live.example.com.", false}, {"nope.live.example.com.", true},
		{"example.org.", false},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, dns.TypeA)
		if tc.edns {
			q.SetEdns0(1232, false)
		}
		for _, tail := range [][]byte{{0}, {1, 2, 3}} {
			pkt := append(pack(t, q), tail...)
			for _, tcp := range []bool{false, true} {
				var r *dns.Msg
				if tcp {
					r = decode(t, askTCP(t, addr, pkt))
				} else {
					r = decode(t, askUDP(t, addr, pkt))
				}
				if r.Rcode != dns.RcodeFormatError || r.Id != q.Id || len(r.Answer) != 0 {
					t.Errorf("%s edns=%v tcp=%v + %x: %s id %d, %d answers; want FORMERR id %d", tc.name, tc.edns, tcp, tail, dns.RcodeToString[r.Rcode], r.Id, len(r.Answer), q.Id)
				}
				if (r.IsEdns0() != nil) != tc.edns {
					t.Errorf("%s edns=%v tcp=%v: reply OPT %v", tc.name, tc.edns, tcp, r.IsEdns0())
				}
			}
		}
	}
}
