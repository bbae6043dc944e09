package geo

import (
	"net/netip"
	"path/filepath"
	"testing"
)

// checkSubnetMap requires m to agree with t.Lookup(db, ·) on the /24 of
// each address: when the map answers, every address of the /24 must get
// that region and source from the table, with a scope of at most 24; when
// it declines, the table's answers within the /24 must indeed differ or
// claim a longer scope.
func checkSubnetMap(tb testing.TB, m *SubnetMap, t *Table, db *DB, addrs []netip.Addr) (answered int) {
	tb.Helper()
	return checkSubnetMapASN(tb, m, t, db, nil, addrs)
}

// checkSubnetMapASN is checkSubnetMap against t.LookupASN(db, ar, ·).
func checkSubnetMapASN(tb testing.TB, m *SubnetMap, t *Table, db *DB, ar *ASNRegions, addrs []netip.Addr) (answered int) {
	tb.Helper()
	for _, a := range addrs {
		if !a.Unmap().Is4() {
			continue
		}
		b := a.Unmap().As4()
		b[3] = 0
		first := t.LookupASN(db, ar, netip.AddrFrom4(b))
		uniform := first.Bits <= 24
		for i := 1; i < 256 && uniform; i++ {
			b[3] = byte(i)
			r := t.LookupASN(db, ar, netip.AddrFrom4(b))
			uniform = r.Region == first.Region && r.Source == first.Source && r.Bits <= 24
		}
		region, source, ok := m.Lookup24(a)
		switch {
		case ok && !uniform:
			tb.Fatalf("%s: map answers region %d (%s), but the table's answers differ within the /24", a, region, source)
		case ok && (region != first.Region || source != first.Source):
			tb.Fatalf("%s: map answers region %d (%s), table %d (%s)", a, region, source, first.Region, first.Source)
		case !ok && uniform:
			tb.Fatalf("%s: map declines a /24 the table answers alike throughout (region %d, %s)", a, first.Region, first.Source)
		}
		if ok {
			answered++
		}
	}
	return answered
}

// edgeAddrs returns, for each prefix, addresses at and around its edges.
func edgeAddrs(prefixes []netip.Prefix) []netip.Addr {
	var out []netip.Addr
	for _, p := range prefixes {
		first, last := p.Masked().Addr(), lastAddr(p.Masked())
		out = append(out, first, last)
		if prev := first.Prev(); prev.IsValid() {
			out = append(out, prev)
		}
		if next := last.Next(); next.IsValid() {
			out = append(out, next)
		}
	}
	return out
}

func TestSubnetMapAgreesWithTable(t *testing.T) {
	tbl := mustTable(t, testRegions(), testNetworks())
	var prefixes []netip.Prefix
	for _, n := range testNets() {
		prefixes = append(prefixes, netip.MustParsePrefix(n.cidr))
	}
	for _, n := range testNetworks() {
		prefixes = append(prefixes, unmapPrefix(n.Prefix))
	}
	addrs := append(edgeAddrs(prefixes), sampleAddrs(2000, false)...)
	addrs = append(addrs, netip.MustParseAddr("::ffff:1.16.3.4"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"))

	for _, db := range []*DB{nil, openTestDB(t, layoutCountry, testNets())} {
		m := NewSubnetMap(tbl, db)
		if n := checkSubnetMap(t, m, tbl, db, addrs); n < len(addrs)*9/10 {
			t.Errorf("db %v: the map answered only %d of %d addresses", db != nil, n, len(addrs))
		}
	}

	db := openTestDB(t, layoutCountry, testNets())
	m := NewSubnetMap(tbl, db)
	for _, c := range []struct {
		addr   string
		region string
		source Source
		ok     bool
	}{
		{"1.16.200.1", "kr", SourceCountry, true},
		{"::ffff:1.17.0.9", "jp", SourceCountry, true},
		{"10.1.2.3", "kr", SourceNetwork, true},
		{"10.200.0.1", "eu", SourceNetwork, true},
		{"2.0.9.9", "eu", SourceContinent, true},
		{"3.3.4.1", "us", SourceCountry, true},
		{"3.3.3.3", "eu", SourceContinent, true},
		{"77.0.0.1", "rest", SourceDefault, true},
		{"8.8.8.1", "", SourceNone, false},        // a /32 override inside
		{"192.0.2.77", "jp", SourceNetwork, true}, // an override of exactly this /24
		{"2001:200::1", "", SourceNone, false},    // IPv6 is the table's
	} {
		region, source, ok := m.Lookup24(netip.MustParseAddr(c.addr))
		if ok != c.ok || (ok && (region != tbl.RegionIndex(c.region) || source != c.source)) {
			t.Errorf("%s: got region %d %s ok=%v, want %q %s ok=%v", c.addr, region, source, ok, c.region, c.source, c.ok)
		}
	}
	if m.Blocks() == 0 {
		t.Error("no /16 kept as per-/24 blocks, though 1.0.0.0/16 and 3.3.0.0/16 mix regions")
	}
}

func TestSubnetMapLargeDB(t *testing.T) {
	db := openBytes(t, filepath.Join(t.TempDir(), "synthetic.mmdb"), syntheticDB(t, 100_000, 1000))
	tbl := mustTable(t, []RegionSpec{
		{Name: "kr", Codes: []string{"KR"}},
		{Name: "eu", Codes: []string{"EU"}},
		{Name: "rest", Codes: []string{"*"}},
	}, []NetworkSpec{
		{Prefix: netip.MustParsePrefix("20.0.0.0/12"), Region: "kr"},
		{Prefix: netip.MustParsePrefix("20.1.2.128/25"), Region: "eu"},
	})
	m := NewSubnetMap(tbl, db)
	addrs := sampleAddrs(3000, false)
	addrs = append(addrs, netip.MustParseAddr("20.1.2.3"), netip.MustParseAddr("20.1.3.3"))
	if n := checkSubnetMap(t, m, tbl, db, addrs); n < len(addrs)*9/10 {
		t.Errorf("the map answered only %d of %d addresses", n, len(addrs))
	}
}

func TestSubnetMapLookupDoesNotAllocate(t *testing.T) {
	tbl := mustTable(t, testRegions(), testNetworks())
	m := NewSubnetMap(tbl, openTestDB(t, layoutCountry, testNets()))
	a := netip.MustParseAddr("1.16.200.1")
	if n := testing.AllocsPerRun(1000, func() { m.Lookup24(a) }); n != 0 {
		t.Errorf("Lookup24 allocates %v times", n)
	}
}
