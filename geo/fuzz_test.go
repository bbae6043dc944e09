package geo

import (
	"encoding/binary"
	"hash/fnv"
	"math/bits"
	"net/netip"
	"slices"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"
)

// reference answers lookups the slow, obvious way, straight from the specs
// and maxminddb's own tree walk, to check Table.Lookup against.
type reference struct {
	regions   []RegionSpec
	overrides []netip.Prefix // unmapped
	owners    []string
	reader    *maxminddb.Reader
	continent map[string]string // country → continent, from testNets
}

func newReference(tb testing.TB) *reference {
	ref := &reference{regions: testRegions(), continent: map[string]string{}}
	for _, n := range testNetworks() {
		ref.overrides = append(ref.overrides, unmapPrefix(n.Prefix))
		ref.owners = append(ref.owners, n.Region)
	}
	r, err := maxminddb.OpenBytes(buildDB(tb, layoutCountry, testNets()))
	if err != nil {
		tb.Fatal(err)
	}
	ref.reader = r
	for _, n := range testNets() {
		if n.country != "" && n.continent != "" {
			ref.continent[n.country] = n.continent
		}
	}
	return ref
}

// regionFor resolves a country and continent by scanning the specs.
func (ref *reference) regionFor(country, continent string) (string, Source) {
	continents := []string{"AF", "AN", "AS", "EU", "NA", "OC", "SA"}
	find := func(wantCountry, wantContinent string) string {
		for _, r := range ref.regions {
			for _, code := range r.Codes {
				isCont := slices.Contains(continents, code)
				switch {
				case wantCountry != "" && (code == "country:"+wantCountry || (code == wantCountry && !isCont)):
					return r.Name
				case wantContinent != "" && (code == "continent:"+wantContinent || (code == wantContinent && isCont)):
					return r.Name
				case wantCountry == "" && wantContinent == "" && code == "*":
					return r.Name
				}
			}
		}
		return ""
	}
	if name := find(country, ""); country != "" && name != "" {
		return name, SourceCountry
	}
	if name := find("", continent); continent != "" && name != "" {
		return name, SourceContinent
	}
	if name := find("", ""); name != "" {
		return name, SourceDefault
	}
	return "", SourceNone
}

// overrideScope is the shortest prefix length around a that takes in no
// override not holding a.
func (ref *reference) overrideScope(a netip.Addr) int {
	scope := 0
	for _, p := range ref.overrides {
		if p.Addr().BitLen() == a.BitLen() && !p.Contains(a) {
			scope = max(scope, commonLen(a, p.Addr())+1)
		}
	}
	return scope
}

func commonLen(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	n := 0
	for i := range x {
		if d := x[i] ^ y[i]; d != 0 {
			n += bits.LeadingZeros8(d)
			break
		}
		n += 8
	}
	if a.Is4() {
		n -= 96
	}
	return n
}

// dbAliased reports IPv6 addresses that maxminddb resolves through the
// IPv4 tree (::/96 and the 6to4 and Teredo aliases); the flattened DB
// deliberately treats them as plain IPv6, so the reference cannot judge
// them.
func dbAliased(a netip.Addr) bool {
	if a.Is4() {
		return false
	}
	for _, p := range []string{"::/96", "2001::/32", "2002::/16"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

// hasData reports whether any database network or override not holding a
// lies within p.
func (ref *reference) hasData(p netip.Prefix, a netip.Addr) bool {
	for _, o := range ref.overrides {
		if o.Addr().BitLen() == a.BitLen() && !o.Contains(a) && p.Overlaps(o) {
			return true
		}
	}
	for res := range ref.reader.NetworksWithin(p) {
		if res.Err() == nil && res.Prefix().Addr().BitLen() == a.BitLen() {
			return true
		}
	}
	return false
}

func FuzzLookup(f *testing.F) {
	for _, s := range []string{
		"1.16.2.3", "3.3.3.3", "8.8.4.4", "8.8.8.8", "10.2.3.4", "192.0.2.55", "9.9.10.1",
		"200.1.1.1", "0.0.0.0", "255.255.255.255", "::ffff:1.16.2.3", "2600:2::1",
		"2a00:1::1", "2a00:1450::1", "::", "::1", "2002::1", "ffff::1",
	} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	ref := newReference(f)
	tbl := mustTable(f, testRegions(), testNetworks())
	db := openTestDB(f, layoutCountry, testNets())
	subnets := NewSubnetMap(tbl, db)
	names := tbl.RegionNames()
	name := func(r Result) string {
		if r.Region < 0 {
			return ""
		}
		return names[r.Region]
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		addr, ok := netip.AddrFromSlice(raw)
		if !ok {
			return
		}
		got := tbl.Lookup(db, addr)
		a := addr.Unmap()
		checkSubnetMap(t, subnets, tbl, db, []netip.Addr{addr})
		if got.Region < -1 || got.Region >= len(names) {
			t.Fatalf("Lookup(%s).Region = %d, out of range", addr, got.Region)
		}
		if int(got.Bits) > a.BitLen() {
			t.Fatalf("Lookup(%s).Bits = %d, longer than the address", addr, got.Bits)
		}

		// The answer must hold across the whole scope it claims: sample it.
		scope := netip.PrefixFrom(a, int(got.Bits)).Masked()
		h := fnv.New64a()
		h.Write(raw)
		seed := h.Sum64()
		for i := range 8 {
			s := randomIn(scope, seed+uint64(i)*0x9e3779b97f4a7c15)
			if s.Is4In6() {
				continue // looked up as IPv4, a different space
			}
			other := tbl.Lookup(db, s)
			if other.Region != got.Region || other.Source != got.Source {
				t.Fatalf("Lookup(%s) = %+v over %s, but Lookup(%s) = %+v", addr, got, scope, s, other)
			}
		}

		// Compare with the reference.
		ovScope := ref.overrideScope(a)
		best := -1
		for i, p := range ref.overrides {
			if p.Contains(a) && (best < 0 || p.Bits() > ref.overrides[best].Bits()) {
				best = i
			}
		}
		if best >= 0 {
			want := Result{Region: tbl.RegionIndex(ref.owners[best]), Bits: uint8(max(ref.overrides[best].Bits(), ovScope)), Source: SourceNetwork}
			if got != want {
				t.Fatalf("Lookup(%s) = %+v, want %+v", addr, got, want)
			}
			return
		}
		if dbAliased(a) {
			return
		}
		res := ref.reader.Lookup(a)
		if res.Err() != nil {
			t.Fatal(res.Err())
		}
		if !res.Found() {
			region, source := ref.regionFor("", "")
			if name(got) != region || got.Source != source || got.Country != ([2]byte{}) {
				t.Fatalf("Lookup(%s) = %+v, want region %q from %v", addr, got, region, source)
			}
			// The scope must be the shortest holding no data: its parent
			// must hold some.
			if got.Bits > 0 && !ref.hasData(netip.PrefixFrom(a, int(got.Bits)-1).Masked(), a) {
				t.Fatalf("Lookup(%s).Bits = %d, but /%d around it is empty too", addr, got.Bits, got.Bits-1)
			}
			return
		}
		var rec geoRecord
		if err := res.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		country, continent := rec.Country.ISOCode, rec.Continent.Code
		if country == "" {
			country = rec.RegisteredCountry.ISOCode
		}
		if continent == "" {
			continent = ref.continent[country]
		}
		region, source := ref.regionFor(country, continent)
		want := Result{Region: tbl.RegionIndex(region), Bits: uint8(max(res.Prefix().Bits(), ovScope)), Source: source}
		copy(want.Country[:], country)
		if got != want {
			t.Fatalf("Lookup(%s) = %+v, want %+v (network %s)", addr, got, want, res.Prefix())
		}
	})
}

// randomIn returns an address in p chosen by seed.
func randomIn(p netip.Prefix, seed uint64) netip.Addr {
	b := p.Addr().As16()
	var r [16]byte
	binary.BigEndian.PutUint64(r[:8], seed*0xbf58476d1ce4e5b9)
	binary.BigEndian.PutUint64(r[8:], seed^0x94d049bb133111eb)
	off := 0
	if p.Addr().Is4() {
		off = 96
	}
	for i := p.Bits() + off; i < 128; i++ {
		mask := byte(0x80) >> (i % 8)
		b[i/8] = b[i/8]&^mask | r[i/8]&mask
	}
	if p.Addr().Is4() {
		return netip.AddrFrom4([4]byte(b[12:]))
	}
	return netip.AddrFrom16(b)
}
