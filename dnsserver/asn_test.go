package dnsserver

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// asnNets are KT's (AS 4766) networks and one of another Korean AS,
// inside testNets' country networks, plus one under a network override.
var asnNets = []geotest.Network{
	{CIDR: "1.16.0.0/20", ASN: 4766},
	{CIDR: "1.16.32.0/25", ASN: 4766},
	{CIDR: "1.16.64.0/18", ASN: 9318},
	{CIDR: "5.0.0.0/22", ASN: 4766},
	{CIDR: "1.16.48.0/22", ASN: 4766}, // 1.16.49.0/24 is a network override
	{CIDR: "2400:1000:1::/48", ASN: 4766},
	{CIDR: "2400:1000:2::/60", ASN: 4766},
}

const ktTarget = "e.cdn.example.net."

// asnHandler serves testdata/geo.toml with a region kr_kt for AS 4766
// (its own CDN, edgio), the country database of testNets and, when
// withASN, an ASN database of asnNets.
func asnHandler(t testing.TB, withASN bool) *Handler {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/geo.toml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(data), "[[geo.network]]\n", "[geo]\nasn_database = \"GeoLite2-ASN.mmdb\"\n\n[[geo.network]]\ncidr = \"1.16.49.0/24\"\nregion = \"kr\"\n\n[[geo.network]]\n", 1)
	doc = strings.Replace(doc, "[regions]\n", "[regions]\nkr_kt = [\"asn:4766\"]\n", 1)
	doc = strings.Replace(doc, "[policy.live.region.kr]", "[cdn.edgio]\ntarget = \""+ktTarget+"\"\n\n[policy.live.region.kr_kt]\nweights = { edgio = 1 }\n[policy.live.region.kr]", 1)
	policy := filepath.Join(dir, "asn.toml")
	if err := os.WriteFile(policy, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := geoHandler(t, policy, testNets)
	if withASN {
		path := filepath.Join(dir, "GeoLite2-ASN.mmdb")
		geotest.Write(t, path, geotest.ASN, asnNets)
		a, err := geo.OpenASNDB(path)
		if err != nil {
			t.Fatal(err)
		}
		h.SetASNDB(a)
	}
	return h
}

// TestASNRegionOverRealUDP asks a running server, over UDP as a resolver
// would, for client subnets in and around KT's networks: KT's get its
// region's CDN, with the ECS scope of KT's network where that is narrower
// than the pick's /24 (/56); a network override still beats the AS and
// the AS beats the country.
func TestASNRegionOverRealUDP(t *testing.T) {
	const kr, eu = "c.cdn.example.net.", "a.cdn.example.net."
	cases := []struct {
		subnet string
		target string
		scope  uint8
	}{
		{"1.16.5.0/24", ktTarget, 24},
		{"1.16.32.0/24", ktTarget, 25}, // KT's /25 splits the /24
		{"1.16.32.128/25", kr, 25},     // its other half is KT's no longer
		{"1.16.70.0/24", kr, 24},       // another AS: the country decides
		{"1.16.200.0/24", kr, 24},      // no AS listed at all
		{"5.0.1.0/24", ktTarget, 24},   // KT's network in Germany: ASN before country
		{"1.16.49.0/24", kr, 24},       // network override before ASN
		{"1.16.50.0/24", ktTarget, 24}, // beside it
		{"2400:1000:1:5::/56", ktTarget, 56},
		{"2400:1000:2::/56", ktTarget, 60}, // KT's /60 is narrower than the /56 pick
		{"2400:1000:3::/56", kr, 56},
	}
	for _, withASN := range []bool{true, false} {
		h := asnHandler(t, withASN)
		s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0"), netip.MustParseAddrPort("[::1]:0")}, h, Options{UDPSockets: 1})
		if err != nil {
			t.Fatal(err)
		}
		s.Serve()
		for _, addr := range s.Addrs() {
			for _, tc := range cases {
				want := tc.target
				if !withASN && want == ktTarget {
					want = map[bool]string{true: eu, false: kr}[strings.HasPrefix(tc.subnet, "5.")]
				}
				target, scope := askECSOverUDP(t, addr.String(), netip.MustParsePrefix(tc.subnet))
				if target != want {
					t.Errorf("ASN database %v: %s via %s: %s, want %s", withASN, tc.subnet, addr, target, want)
				}
				if withASN && scope != tc.scope {
					t.Errorf("%s via %s: scope %d, want %d", tc.subnet, addr, scope, tc.scope)
				}
			}
		}
		s.Shutdown(t.Context())
		if withASN {
			// Two sockets, six ASN-decided subnets each.
			if got := testutil.ToFloat64(h.metrics.geo[geo.SourceASN]); got != 2*6 {
				t.Errorf(`cdnsteer_geo_lookups_total{source="asn"} = %v, want 12`, got)
			}
		}
	}
}

// askECSOverUDP queries the steered name over UDP with ECS subnet p and returns
// the CNAME target and the echoed scope (255 when none came back).
func askECSOverUDP(t testing.TB, addr string, p netip.Prefix) (string, uint8) {
	t.Helper()
	family := uint16(1)
	if p.Addr().Is6() {
		family = 2
	}
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family, SourceNetmask: uint8(p.Bits()), Address: p.Addr().AsSlice()})
	r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(q, addr)
	if err != nil {
		t.Fatalf("%s via %s: %v", p, addr, err)
	}
	if len(r.Answer) != 1 {
		t.Fatalf("%s via %s: %v", p, addr, r)
	}
	var scope uint8 = 255
	if opt := r.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_SUBNET); ok {
				scope = e.SourceScope
			}
		}
	}
	return r.Answer[0].(*dns.CNAME).Target, scope
}

// TestExplainNamesTheAS: explain says an AS decided, which, and agrees
// with the wire.
func TestExplainNamesTheAS(t *testing.T) {
	h := asnHandler(t, true)
	for _, tc := range []struct {
		ecs, region, source string
		asn                 uint32
		scope               int
	}{
		{"1.16.32.0/24", "kr_kt", "asn", 4766, 25},
		{"1.16.70.0/24", "kr", "country", 9318, 24},
		{"1.16.49.0/24", "kr", "network", 4766, 24},
		{"8.8.4.0/24", "default", "default", 0, 24},
	} {
		ecs := netip.MustParsePrefix(tc.ecs)
		e, err := h.Explain("stream.live.example.com.", netip.MustParseAddr("8.8.8.8"), ecs)
		if err != nil {
			t.Fatal(err)
		}
		target, _ := askFrom(t, h, "8.8.8.8", ecs)
		if e.Region != tc.region || e.RegionSource != tc.source || e.ASN != tc.asn || e.Scope != tc.scope || e.Target != target {
			t.Errorf("%s: explain region %s source %s asn %d scope %d target %s; want %s %s %d %d %s",
				tc.ecs, e.Region, e.RegionSource, e.ASN, e.Scope, e.Target, tc.region, tc.source, tc.asn, tc.scope, target)
		}
	}
}
