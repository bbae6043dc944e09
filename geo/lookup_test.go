package geo

import (
	"net/netip"
	"testing"
)

// testRegions and testNetworks are the specs the lookup tests compile.
func testRegions() []RegionSpec {
	return []RegionSpec{
		{Name: "kr", Codes: []string{"KR"}},
		{Name: "jp", Codes: []string{"country:JP"}},
		{Name: "eu", Codes: []string{"EU"}},
		{Name: "us", Codes: []string{"US"}},
		{Name: "na", Codes: []string{"continent:NA"}},
		{Name: "latam", Codes: []string{"SA"}},
		{Name: "rest", Codes: []string{"*"}},
	}
}

func testNetworks() []NetworkSpec {
	return []NetworkSpec{
		{Prefix: netip.MustParsePrefix("8.8.8.0/24"), Region: "kr"},
		{Prefix: netip.MustParsePrefix("8.8.8.8/32"), Region: "jp"},
		{Prefix: netip.MustParsePrefix("10.0.0.0/8"), Region: "eu"},
		{Prefix: netip.MustParsePrefix("10.1.0.0/16"), Region: "kr"},
		{Prefix: netip.MustParsePrefix("2a00:1450::/32"), Region: "us"},
		{Prefix: netip.MustParsePrefix("::ffff:192.0.2.0/120"), Region: "jp"},
	}
}

func mustTable(tb testing.TB, regions []RegionSpec, networks []NetworkSpec) *Table {
	tb.Helper()
	t, err := NewTable(regions, networks)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// want is an expected Result with the region by name, for readability.
type want struct {
	region  string // "" for none
	bits    uint8
	source  Source
	country string
}

func (w want) result(t *Table) Result {
	r := Result{Region: t.RegionIndex(w.region), Bits: w.bits, Source: w.source}
	copy(r.Country[:], w.country)
	return r
}

func TestLookupWithDB(t *testing.T) {
	cases := []struct {
		addr string
		want want
		why  string
	}{
		{"1.16.2.3", want{"kr", 16, SourceCountry, "KR"}, "country; a /16 network gives 16 bits"},
		{"1.17.200.1", want{"jp", 16, SourceCountry, "JP"}, "adjacent network, forced country code"},
		{"3.3.3.3", want{"eu", 24, SourceContinent, "DE"}, "continent when the country is unlisted; nested /24"},
		{"3.3.2.1", want{"us", 24, SourceCountry, "US"}, "the /8 around a nested /24 splits into longer networks"},
		{"3.200.0.1", want{"us", 9, SourceCountry, "US"}, "the far half of the split /8"},
		{"5.0.1.1", want{"eu", 16, SourceContinent, "DE"}, "continent"},
		{"2.0.1.1", want{"eu", 16, SourceContinent, ""}, "a network with a continent and no country"},
		{"8.8.4.4", want{"us", 21, SourceCountry, "US"}, "country beats continent; scope narrowed to keep out the 8.8.8.0/24 override"},
		{"8.8.8.8", want{"jp", 32, SourceNetwork, ""}, "longest override wins"},
		{"8.8.8.9", want{"kr", 32, SourceNetwork, ""}, "override beats the database"},
		{"8.8.8.200", want{"kr", 25, SourceNetwork, ""}, "the /24 minus the /32 leaves a /25 here"},
		{"10.1.2.3", want{"kr", 16, SourceNetwork, ""}, "nested override"},
		{"10.2.3.4", want{"eu", 15, SourceNetwork, ""}, "outer override, carved around the nested one"},
		{"10.200.0.1", want{"eu", 9, SourceNetwork, ""}, "outer override, far half"},
		{"192.0.2.55", want{"jp", 24, SourceNetwork, ""}, "override written as an IPv4-mapped prefix"},
		{"9.9.9.9", want{"jp", 24, SourceCountry, "JP"}, "registered_country when country is absent"},
		{"9.9.10.1", want{"latam", 24, SourceContinent, "BR"}, "registered_country's continent, learned from other networks"},
		{"24.48.1.1", want{"na", 16, SourceContinent, "CA"}, "continent"},
		{"45.0.1.1", want{"latam", 16, SourceContinent, "BR"}, "bare SA means South America"},
		{"1.0.0.1", want{"rest", 24, SourceDefault, "AU"}, "known country and continent, neither listed: catch-all"},
		{"200.1.1.1", want{"rest", 5, SourceDefault, ""}, "not in the database: 200.0.0.0/5 holds no network or override"},
		{"127.0.0.1", want{"rest", 2, SourceDefault, ""}, "not in the database: 64.0.0.0/2 holds nothing"},
		{"::ffff:1.16.2.3", want{"kr", 16, SourceCountry, "KR"}, "IPv4-mapped IPv6 is IPv4, scoped in IPv4 bits"},
		{"::ffff:8.8.8.8", want{"jp", 32, SourceNetwork, ""}, "IPv4-mapped IPv6 override"},
		{"2400:1000::1", want{"kr", 32, SourceCountry, "KR"}, "IPv6 country"},
		{"2001:200:1::1", want{"jp", 32, SourceCountry, "JP"}, "IPv6 country"},
		{"2600:1::5", want{"eu", 32, SourceContinent, "DE"}, "IPv6 nested network"},
		{"2600:2::1", want{"us", 31, SourceCountry, "US"}, "IPv6 network split around a nested one"},
		{"2600:8000::1", want{"us", 17, SourceCountry, "US"}, "IPv6 far half"},
		{"2a00:1450:4001::1", want{"us", 32, SourceNetwork, ""}, "IPv6 override beats the database"},
		{"2a00:1::1", want{"eu", 20, SourceContinent, "DE"}, "IPv6 scope narrowed to keep out the override"},
		{"2c0f::1", want{"rest", 6, SourceDefault, ""}, "IPv6 gap"},
		{"fe80::1%eth0", want{"rest", 1, SourceDefault, ""}, "zone ignored"},
	}
	tbl := mustTable(t, testRegions(), testNetworks())
	for _, layout := range []string{layoutCountry, layoutCity} {
		db := openTestDB(t, layout, testNets())
		for _, c := range cases {
			got := tbl.Lookup(db, netip.MustParseAddr(c.addr))
			if w := c.want.result(tbl); got != w {
				t.Errorf("%s: Lookup(%s) = %+v, want %+v (%s)", layout, c.addr, got, w, c.why)
			}
		}
	}
}

func TestLookupWithoutDB(t *testing.T) {
	cases := []struct {
		addr string
		want want
	}{
		// 0.0.0.0/5 is the widest prefix around 1.16.2.3 without an override.
		{"1.16.2.3", want{"rest", 5, SourceDefault, ""}},
		{"8.8.8.8", want{"jp", 32, SourceNetwork, ""}},
		{"::ffff:10.1.0.1", want{"kr", 16, SourceNetwork, ""}},
		{"2400:1000::1", want{"rest", 5, SourceDefault, ""}},
		{"2a00:1450::1", want{"us", 32, SourceNetwork, ""}},
	}
	tbl := mustTable(t, testRegions(), testNetworks())
	for _, c := range cases {
		got := tbl.Lookup(nil, netip.MustParseAddr(c.addr))
		if w := c.want.result(tbl); got != w {
			t.Errorf("Lookup(nil, %s) = %+v, want %+v", c.addr, got, w)
		}
	}
}

func TestLookupCatchAll(t *testing.T) {
	star := mustTable(t, []RegionSpec{{Name: "kr", Codes: []string{"KR"}}, {Name: "any", Codes: []string{"*"}}}, nil)
	none := mustTable(t, []RegionSpec{{Name: "kr", Codes: []string{"KR"}}}, nil)
	db := openTestDB(t, layoutCountry, testNets())
	cases := []struct {
		name string
		tbl  *Table
		db   *DB
		addr string
		want want
	}{
		{"star, no db, no overrides: all space", star, nil, "1.2.3.4", want{"any", 0, SourceDefault, ""}},
		{"star, no db, IPv6", star, nil, "2001:db8::1", want{"any", 0, SourceDefault, ""}},
		{"star, invalid address", star, db, "", want{"any", 0, SourceDefault, ""}},
		{"no star, no db", none, nil, "1.2.3.4", want{"", 0, SourceNone, ""}},
		{"no star, unlisted country", none, db, "1.0.0.1", want{"", 24, SourceNone, "AU"}},
		{"no star, listed country", none, db, "1.16.0.1", want{"kr", 16, SourceCountry, "KR"}},
		{"no star, IPv6 gap", none, db, "fe80::1", want{"", 1, SourceNone, ""}},
	}
	for _, c := range cases {
		var addr netip.Addr
		if c.addr != "" {
			addr = netip.MustParseAddr(c.addr)
		}
		got := c.tbl.Lookup(c.db, addr)
		if w := c.want.result(c.tbl); got != w {
			t.Errorf("%s: Lookup(%s) = %+v, want %+v", c.name, c.addr, got, w)
		}
	}
}

func TestSourceString(t *testing.T) {
	for s, want := range map[Source]string{
		SourceNone: "none", SourceNetwork: "network", SourceCountry: "country",
		SourceContinent: "continent", SourceDefault: "default", Source(99): "none",
	} {
		if got := s.String(); got != want {
			t.Errorf("Source(%d).String() = %q, want %q", s, got, want)
		}
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	tbl := mustTable(t, testRegions(), testNetworks())
	db := openTestDB(t, layoutCountry, testNets())
	addrs := []netip.Addr{
		netip.MustParseAddr("1.16.2.3"),
		netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("200.1.1.1"),
		netip.MustParseAddr("::ffff:1.16.2.3"),
		netip.MustParseAddr("2400:1000::1"),
		netip.MustParseAddr("2a00:1450::1"),
		netip.MustParseAddr("fe80::1%eth0"),
	}
	for _, d := range []*DB{db, nil} {
		var sink Result
		allocs := testing.AllocsPerRun(1000, func() {
			for _, a := range addrs {
				sink = tbl.Lookup(d, a)
			}
		})
		if allocs != 0 {
			t.Errorf("Lookup (db %v) allocates %v times per run", d != nil, allocs)
		}
		_ = sink
	}
}
