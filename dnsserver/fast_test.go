package dnsserver

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fastSeeds are queries the fast path should take.
func fastSeeds(t testing.TB) [][]byte {
	var out [][]byte
	add := func(m *dns.Msg) {
		pkt, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pkt)
	}
	for _, name := range []string{"stream.live.example.com.", "STREAM.Live.example.COM.", "one.live.example.com.", "s.other.test."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeHTTPS, dns.TypeANY} {
			q := new(dns.Msg)
			q.SetQuestion(name, qt)
			q.RecursionDesired = qt == dns.TypeA
			q.CheckingDisabled = qt == dns.TypeAAAA
			add(q)
			q.SetEdns0(4096, qt == dns.TypeAAAA)
			add(q)
			for _, ecs := range []*dns.EDNS0_SUBNET{
				{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{1, 16, 5, 0}},
				{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 20, Address: []byte{5, 0, 16, 0}},
				{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 0, Address: []byte{0, 0, 0, 0}},
				{Code: dns.EDNS0SUBNET, Family: 2, SourceNetmask: 56, Address: netip.MustParseAddr("2400:1000:1:200::").AsSlice()},
				{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{198, 51, 100, 0}},
			} {
				q2 := q.Copy()
				q2.IsEdns0().Option = []dns.EDNS0{ecs}
				add(q2)
			}
		}
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
	}{
		{"player.live.example.com.", dns.TypeA}, {"PLAYER.live.example.com.", dns.TypeA},
		{"live.example.com.", dns.TypeTXT}, {"ns1.live.example.com.", dns.TypeAAAA},
		{"big.live.example.com.", dns.TypeTXT}, {"www.live.example.com.", dns.TypeA},
		{"player.live.example.com.", dns.TypeAAAA}, {"ns.sub.live.example.com.", dns.TypeA},
		{"nope.live.example.com.", dns.TypeA}, {"Nope.live.example.com.", dns.TypeAAAA},
		{"nope.LIVE.example.com.", dns.TypeA}, {"x.ns1.live.example.com.", dns.TypeA},
		{"a.b.c.d.live.example.com.", dns.TypeTXT}, {"x.sub.live.example.com.", dns.TypeA},
		{"x.stream.live.example.com.", dns.TypeA}, {"nope.other.test.", dns.TypeA},
		{"deep.live.example.com.", dns.TypeA},
	} {
		q := new(dns.Msg)
		q.SetQuestion(tc.name, tc.qtype)
		add(q)
		q.SetEdns0(4096, false)
		q.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{1, 16, 5, 0}}}
		add(q)
	}
	return out
}

func TestFastPathTakesSteeredQueries(t *testing.T) {
	h, _ := geoHandler(t, "testdata/geo.toml", testNets)
	h2 := testHandler(t)
	for _, hh := range []*Handler{h, h2} {
		st := hh.State()
		for _, pkt := range fastSeeds(t) {
			fast, ok := hh.fast(make([]byte, 0, 4096), pkt, testClient, st, time.Now())
			var m dns.Msg
			m.Unpack(pkt)
			name := []byte(dns.CanonicalName(m.Question[0].Name))
			z := st.Snap.ZoneOf(name)
			absent := z != nil && z.Absent(name)
			if _, steered := st.Snap.SteeredName(name); !steered && st.templates.staticAnswer(name, m.Question[0].Qtype) == nil && !absent {
				if ok {
					t.Errorf("fast path answered %v, which has no prepared answer", m.Question[0])
				}
				continue
			}
			if !ok && len(pkt) < 40 && strings.HasPrefix(string(name), "big.") {
				continue // too big for 512 bytes: the general path truncates
			}
			if !ok && absent && (strings.Contains(m.Question[0].Name, "LIVE") || strings.HasPrefix(string(name), "x.ns1.")) {
				continue // compressed differently by the general path: it answers
			}
			if !ok {
				t.Errorf("fast path declined %v", m.Question[0])
				continue
			}
			slow := hh.general(make([]byte, 0, 4096), pkt, testClient, false, st, time.Now())
			if !bytes.Equal(fast, slow) {
				t.Errorf("%v: fast and general paths differ\nfast    %x\ngeneral %x", m.Question[0], fast, slow)
			}
		}
	}
}

// FuzzFastPathMatches is the differential test: for any packet the fast
// path answers, the general path must produce the very same bytes.
func FuzzFastPathMatches(f *testing.F) {
	for _, pkt := range fastSeeds(f) {
		f.Add(pkt, uint8(0))
		f.Add(pkt, uint8(16))
	}
	for _, pkt := range doSeeds(f) {
		f.Add(pkt, uint8(32))
		f.Add(pkt, uint8(16))
	}
	geoH, _ := geoHandler(f, "testdata/geo.toml", testNets)
	// Two policies: one with its SOA names outside the zone, one with
	// them inside, which the NXDOMAIN compression depends on; and the
	// second signed, for DO=1.
	signed, _ := clockHandler(f, signedPolicy(f, cskDir(f, dns.ECDSAP256SHA256)), nil)
	handlers := []*Handler{geoH, testHandler(f), signed}
	clients := []netip.Addr{testClient, netip.MustParseAddr("1.16.0.9"), netip.MustParseAddr("5.0.1.1"), netip.MustParseAddr("2a00::1")}
	f.Fuzz(func(t *testing.T, pkt []byte, c uint8) {
		h := handlers[int(c>>4)%len(handlers)]
		st := h.State()
		client := clients[int(c&15)%len(clients)]
		fast, ok := h.fast(make([]byte, 0, 4096), pkt, client, st, time.Now())
		if !ok {
			return
		}
		slow := h.general(make([]byte, 0, 4096), pkt, client, false, st, time.Now())
		if !bytes.Equal(fast, slow) {
			t.Fatalf("fast and general paths differ for %x\nfast    %x\ngeneral %x", pkt, fast, slow)
		}
	})
}

// TestSteeredQueryAllocatesNothing guards the hot path's allocation
// budget: every query the fast path answers — steered (with and without
// ECS), static, NXDOMAIN — costs no allocation.
func TestSteeredQueryAllocatesNothing(t *testing.T) {
	h, _ := geoHandler(t, "testdata/geo.toml", testNets)
	buf := make([]byte, 0, maxMessageSize)
	for _, pkt := range fastSeeds(t) {
		if h.Respond(buf, pkt, testClient, false) == nil {
			t.Fatal("no reply")
		}
		if _, fast := h.fast(buf, pkt, testClient, h.State(), time.Now()); !fast {
			continue // the general path allocates; it is not the hot path
		}
		allocs := testing.AllocsPerRun(200, func() { h.Respond(buf, pkt, testClient, false) })
		if allocs != 0 {
			var m dns.Msg
			m.Unpack(pkt)
			t.Errorf("%v: %v allocations per query, want 0", m.Question[0], allocs)
		}
	}
}
