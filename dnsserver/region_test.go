package dnsserver

import (
	"net/netip"
	"testing"
)

// TestRegionThroughTheMaps: the region a query's client address gets —
// through the per-/24 or per-/56 map, or the search where a map declines —
// and the ECS scope made of it are the search's, for IPv4, IPv4-mapped
// and IPv6 addresses in and around KT's networks, with and without the
// ASN database; and IPv6 subnets no narrower network splits are answered
// by the map, not the search.
func TestRegionThroughTheMaps(t *testing.T) {
	addrs := []string{
		"1.16.5.9", "1.16.32.7", "1.16.32.200", "1.16.70.1", "1.16.49.3", "5.0.1.1", "8.8.8.8", "203.0.113.9",
		"::ffff:1.16.5.9", "2400:1000:1:ff::1", "2400:1000:2::1", "2400:1000:2:10::1", "2400:1000:5::1",
		"2a00:1:2::3", "2001:db8::1",
	}
	for _, withASN := range []bool{false, true} {
		st := asnHandler(t, withASN).State()
		for _, s := range addrs {
			a := netip.MustParseAddr(s)
			region, source, bits := st.region(a)
			res := st.Snap.GeoTable.LookupASN(st.DB, st.asnRegions, a)
			if res.Region < 0 {
				res.Region = st.defaultRegion
			}
			if region != res.Region || source != res.Source || ecsScope(bits, a) != ecsScope(res.Bits, a) {
				t.Errorf("asn=%v %s: region %d %s scope %d, the search %d %s scope %d",
					withASN, a, region, source, ecsScope(bits, a), res.Region, res.Source, ecsScope(res.Bits, a))
			}
		}
		for _, s := range []string{"2400:1000:1:ff::1", "2400:1000:5::1", "2a00:1:2::3", "2001:db8::1"} {
			if _, _, _, ok := st.subnets.LookupSubnet(netip.MustParseAddr(s)); !ok {
				t.Errorf("asn=%v %s: left to the search, though no network splits its /56", withASN, s)
			}
		}
		// KT's /60 splits its /56: the search decides, with scope 60.
		if _, _, _, ok := st.subnets.LookupSubnet(netip.MustParseAddr("2400:1000:2::1")); ok == withASN {
			t.Errorf("asn=%v: map answers %v for the /56 of KT's /60", withASN, ok)
		}
	}
}
