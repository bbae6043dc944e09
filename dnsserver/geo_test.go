package dnsserver

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

var testNets = []geotest.Network{
	{CIDR: "1.16.0.0/16", Country: "KR", Continent: "AS"},
	{CIDR: "1.17.0.0/16", Country: "JP", Continent: "AS"},
	{CIDR: "5.0.0.0/16", Country: "DE", Continent: "EU"},
	{CIDR: "5.1.0.0/16", Country: "FR", Continent: "EU"},
	{CIDR: "8.8.0.0/16", Country: "US", Continent: "NA"},
	{CIDR: "2400:1000::/32", Country: "KR", Continent: "AS"},
	{CIDR: "2a00::/16", Country: "DE", Continent: "EU"},
}

func geoHandler(t testing.TB, policy string, nets []geotest.Network) (*Handler, string) {
	t.Helper()
	h, _ := policyHandler(t, policy)
	path := filepath.Join(t.TempDir(), "GeoLite2-Country.mmdb")
	geotest.Write(t, path, geotest.Country, nets)
	db, err := geo.OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	h.SetGeoDB(db)
	return h, path
}

// askFrom queries the steered name from a resolver, with an ECS prefix
// when ecs is valid, and returns the target and the echoed ECS option.
func askFrom(t testing.TB, h *Handler, resolver string, ecs netip.Prefix) (string, *dns.EDNS0_SUBNET) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	if ecs.IsValid() {
		q.SetEdns0(1232, false)
		family := uint16(1)
		if ecs.Addr().Is6() {
			family = 2
		}
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family,
			SourceNetmask: uint8(ecs.Bits()), Address: ecs.Addr().AsSlice()})
	}
	pkt, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := h.Respond(nil, pkt, netip.MustParseAddr(resolver), false)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("reply %v, %v", r, err)
	}
	var echo *dns.EDNS0_SUBNET
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if s, ok := o.(*dns.EDNS0_SUBNET); ok {
				echo = s
			}
		}
	}
	return r.Answer[0].(*dns.CNAME).Target, echo
}

func TestRegionFromECSAndResolver(t *testing.T) {
	h, _ := geoHandler(t, "testdata/geo.toml", testNets)
	const kr, eu, other = "c.cdn.example.net.", "a.cdn.example.net.", "f.cdn.example.net."
	cases := []struct {
		name     string
		resolver string
		ecs      string
		target   string
		scope    int // -1: no ECS in the reply
	}{
		{"KR subnet via ECS", "8.8.8.8", "1.16.5.0/24", kr, 24},
		{"DE subnet via ECS", "8.8.8.8", "5.0.7.0/24", eu, 24},
		{"FR by continent", "8.8.8.8", "5.1.2.0/24", eu, 24},
		{"US falls to default", "1.16.0.1", "8.8.4.0/24", other, 24},
		{"KR IPv6 subnet", "8.8.8.8", "2400:1000:5::/48", kr, 56},
		{"DE IPv6 subnet", "8.8.8.8", "2a00:1450::/48", eu, 56},
		{"a region network narrower than the pick", "8.8.8.8", "203.0.113.128/25", eu, 25},
		{"a short source still gets the pick's width", "8.8.8.8", "1.16.0.0/16", kr, 24},
		{"override beats the database", "8.8.8.8", "198.51.100.0/24", kr, 24},
		{"ECS /0 uses the resolver", "1.16.0.1", "0.0.0.0/0", kr, 0},
		{"resolver address without ECS", "5.0.0.53", "", eu, -1},
		{"KR resolver without ECS", "1.16.200.1", "", kr, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p netip.Prefix
			if tc.ecs != "" {
				p = netip.MustParsePrefix(tc.ecs)
			}
			target, echo := askFrom(t, h, tc.resolver, p)
			if target != tc.target {
				t.Errorf("target %s, want %s", target, tc.target)
			}
			switch {
			case tc.scope < 0 && echo != nil:
				t.Errorf("ECS echoed %v for a query without ECS", echo)
			case tc.scope >= 0 && echo == nil:
				t.Error("ECS not echoed")
			case tc.scope >= 0 && int(echo.SourceScope) != tc.scope:
				t.Errorf("scope %d, want %d", echo.SourceScope, tc.scope)
			}
		})
	}
}

func TestECSOffIgnoresTheSubnet(t *testing.T) {
	data, err := os.ReadFile("testdata/geo.toml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "noecs.toml")
	os.WriteFile(path, []byte(strings.Replace(string(data), "[regions]", "[geo]\necs = false\n\n[regions]", 1)), 0o644)
	h, _ := geoHandler(t, path, testNets)
	target, echo := askFrom(t, h, "5.0.0.53", netip.MustParsePrefix("1.16.5.0/24"))
	if target != "a.cdn.example.net." {
		t.Errorf("with geo.ecs off the resolver's region must decide: got %s", target)
	}
	if echo != nil {
		t.Errorf("with geo.ecs off ECS must not be echoed, got %v", echo)
	}
}

func TestWithoutDatabaseOverridesStillWork(t *testing.T) {
	h, _ := policyHandler(t, "testdata/geo.toml")
	if target, _ := askFrom(t, h, "8.8.8.8", netip.MustParsePrefix("198.51.100.0/24")); target != "c.cdn.example.net." {
		t.Errorf("override without a database: %s", target)
	}
	if target, echo := askFrom(t, h, "8.8.8.8", netip.MustParsePrefix("1.16.5.0/24")); target != "f.cdn.example.net." || echo.SourceScope != 24 {
		t.Errorf("no database: %s scope %d, want the default region, scope 24 (the pick's subnet)", target, echo.SourceScope)
	}
}

// TestDatabaseReplacedUnderLoad swaps the database file while queries run
// over real UDP: every query is answered, and the new data takes over.
func TestDatabaseReplacedUnderLoad(t *testing.T) {
	h, path := geoHandler(t, "testdata/geo.toml", testNets)
	loaded := make(chan *geo.DB, 4)
	w, err := geo.NewWatcher(path, func(db *geo.DB) {
		h.SetGeoDB(db)
		loaded <- db
	}, func(err error) { t.Errorf("watcher: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	<-loaded // the first load

	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	defer s.Shutdown(t.Context())
	addr := s.Addrs()[0].String()

	var sent, answered, lost atomic.Int64
	var sawKR, sawJP atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			for i := 0; i < 20000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := new(dns.Msg)
				q.SetQuestion("stream.live.example.com.", dns.TypeA)
				q.SetEdns0(1232, false)
				q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{1, 16, 5, 0}})
				sent.Add(1)
				r, _, err := c.Exchange(q, addr)
				if err != nil || len(r.Answer) != 1 {
					lost.Add(1)
					continue
				}
				answered.Add(1)
				switch r.Answer[0].(*dns.CNAME).Target {
				case "c.cdn.example.net.":
					sawKR.Store(true)
				case "f.cdn.example.net.":
					sawJP.Store(true) // 1.16/16 re-registered to JP: default region
				}
			}
		}()
	}
	// Wait until queries flow, then move 1.16.0.0/16 from KR to JP.
	for answered.Load() < 200 {
		time.Sleep(time.Millisecond)
	}
	moved := append([]geotest.Network{}, testNets...)
	moved[0].Country = "JP"
	geotest.Write(t, path, geotest.Country, moved)
	select {
	case <-loaded:
	case <-time.After(10 * time.Second):
		t.Fatal("the replaced database was never loaded")
	}
	before := answered.Load()
	for answered.Load() < before+200 {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if lost.Load() != 0 {
		t.Errorf("%d of %d queries lost while the database was replaced", lost.Load(), sent.Load())
	}
	if !sawKR.Load() || !sawJP.Load() {
		t.Errorf("answers before and after the swap: KR %v, JP %v", sawKR.Load(), sawJP.Load())
	}
	t.Logf("%d queries, %d answered, %d lost", sent.Load(), answered.Load(), lost.Load())
}

// TestExplainAgreesWithAnswers asks explain and the wire the same
// question for many subnets: they must name the same CDN.
func TestExplainAgreesWithAnswers(t *testing.T) {
	h, _ := geoHandler(t, "testdata/geo.toml", testNets)
	h2 := testHandler(t)
	for i := 0; i < 200; i++ {
		ecs := netip.PrefixFrom(netip.AddrFrom4([4]byte{1, byte(15 + i%4), byte(i), 0}), 24)
		for _, hh := range []*Handler{h, h2} {
			target, _ := askFrom(t, hh, "8.8.8.8", ecs)
			e, err := hh.Explain("Stream.live.example.com", netip.MustParseAddr("8.8.8.8"), ecs)
			if err != nil {
				t.Fatal(err)
			}
			if e.Target != target {
				t.Fatalf("%s: explain says %s, the wire %s", ecs, e.Target, target)
			}
		}
	}
	e, _ := h.Explain("stream.live.example.com.", netip.MustParseAddr("8.8.8.8"), netip.MustParsePrefix("1.16.9.0/24"))
	if e.Region != "kr" || e.RegionSource != "country" || e.RegionBasis != "ecs" || e.Country != "KR" || e.Scope != 24 || e.CDN != "cloudfront" {
		t.Errorf("explain = %+v", e)
	}
	for _, bad := range []string{"player.live.example.com.", "example.org.", "a..b"} {
		if _, err := h.Explain(bad, netip.MustParseAddr("8.8.8.8"), netip.Prefix{}); err == nil {
			t.Errorf("explain of %q succeeded", bad)
		}
	}
}

// TestRegionsOverRealUDP asks a running server over UDP, as a resolver
// would, for a Korean and a German client subnet.
func TestRegionsOverRealUDP(t *testing.T) {
	h, _ := geoHandler(t, "testdata/geo.toml", testNets)
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0"), netip.MustParseAddrPort("[::1]:0")}, h, Options{UDPSockets: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	defer s.Shutdown(t.Context())
	for _, addr := range s.Addrs() {
		for _, tc := range []struct {
			subnet string
			target string
			scope  uint8
		}{
			{"1.16.77.0/24", "c.cdn.example.net.", 24},
			{"5.0.77.0/24", "a.cdn.example.net.", 24},
			{"2400:1000:77::/48", "c.cdn.example.net.", 56},
		} {
			p := netip.MustParsePrefix(tc.subnet)
			family := uint16(1)
			if p.Addr().Is6() {
				family = 2
			}
			q := new(dns.Msg)
			q.SetQuestion("stream.live.example.com.", dns.TypeA)
			q.SetEdns0(1232, false)
			q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
			r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(q, addr.String())
			if err != nil {
				t.Fatalf("%s via %s: %v", tc.subnet, addr, err)
			}
			if got := r.Answer[0].(*dns.CNAME).Target; got != tc.target {
				t.Errorf("%s via %s: %s, want %s", tc.subnet, addr, got, tc.target)
			}
			var scope uint8 = 255
			for _, o := range r.IsEdns0().Option {
				if e, ok := o.(*dns.EDNS0_SUBNET); ok {
					scope = e.SourceScope
				}
			}
			if scope != tc.scope {
				t.Errorf("%s via %s: scope %d, want %d", tc.subnet, addr, scope, tc.scope)
			}
		}
	}
}
