package geo

import (
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// fuzzASNNets overlap the country networks, the overrides and each other:
// listed ASes with holes of unlisted ones, narrower than /24 and wider.
var fuzzASNNets = []geotest.Network{
	{CIDR: "1.16.0.0/20", ASN: 4766},
	{CIDR: "1.16.8.0/25", ASN: 9318}, // unlisted hole in KT's /20
	{CIDR: "1.16.128.0/25", ASN: 9318},
	{CIDR: "1.16.129.0/25", ASN: 3786},
	{CIDR: "3.3.0.0/16", ASN: 3786},
	{CIDR: "3.3.3.128/25", ASN: 4766},
	{CIDR: "8.8.8.0/24", ASN: 4766}, // under an override
	{CIDR: "45.0.0.0/8", ASN: 4766}, // wider than the country network
	{CIDR: "2400:1000::/40", ASN: 4766},
	{CIDR: "2400:1000:ab::/60", ASN: 3786},
	{CIDR: "2a00:1450::/32", ASN: 3786},
	{CIDR: "2600::/24", ASN: 9318},
}

var fuzzASNRegions = map[uint32]string{4766: "kt", 3786: "lgu"}

// FuzzLookupASN checks Table.LookupASN against the ASN database read by
// maxminddb itself and against Lookup: a network override first, then a
// listed AS (its network's scope), else exactly Lookup's region with a
// scope no wider than the nearest listed AS network allows; the answer
// holds over its scope, and the /24 map agrees with it.
func FuzzLookupASN(f *testing.F) {
	for _, s := range []string{
		"1.16.2.3", "1.16.8.9", "1.16.8.200", "1.16.128.1", "1.16.129.200", "3.3.3.3", "3.3.3.200",
		"3.4.0.1", "8.8.8.8", "8.8.8.9", "45.0.1.1", "45.7.0.1", "::ffff:1.16.2.3",
		"2400:1000::1", "2400:1000:ab::1", "2400:1000:ab:10::1", "2a00:1450::1", "2600::1", "::",
	} {
		f.Add(netip.MustParseAddr(s).AsSlice())
	}
	regions := append(testRegions(), RegionSpec{Name: "kt", Codes: []string{"asn:4766"}}, RegionSpec{Name: "lgu", Codes: []string{"asn:3786"}})
	tbl := mustTable(f, regions, testNetworks())
	db := openTestDB(f, layoutCountry, testNets())
	raw := geotest.Build(f, geotest.ASN, fuzzASNNets)
	reader, err := maxminddb.OpenBytes(raw)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(f.TempDir(), "asn.mmdb")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		f.Fatal(err)
	}
	a, err := OpenASNDB(path)
	if err != nil {
		f.Fatal(err)
	}
	ar := NewASNRegions(tbl, a)
	subnets := NewSubnetMapASN(tbl, db, ar)
	ref := newReference(f)
	listedWithin := func(p netip.Prefix, addr netip.Addr) bool {
		for res := range reader.NetworksWithin(p) {
			var rec asnRecord
			if res.Err() == nil && res.Prefix().Addr().BitLen() == addr.BitLen() && res.Decode(&rec) == nil && fuzzASNRegions[rec.ASN] != "" {
				return true
			}
		}
		return false
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		addr, ok := netip.AddrFromSlice(raw)
		if !ok {
			return
		}
		a := addr.Unmap()
		got := tbl.LookupASN(db, ar, addr)
		plain := tbl.Lookup(db, addr)
		checkSubnetMapASN(t, subnets, tbl, db, ar, []netip.Addr{addr})
		if int(got.Bits) > a.BitLen() {
			t.Fatalf("LookupASN(%s).Bits = %d, longer than the address", addr, got.Bits)
		}

		scope := netip.PrefixFrom(a, int(got.Bits)).Masked()
		h := fnv.New64a()
		h.Write(raw)
		seed := h.Sum64()
		for i := range 8 {
			s := randomIn(scope, seed+uint64(i)*0x9e3779b97f4a7c15)
			if s.Is4In6() {
				continue
			}
			if other := tbl.LookupASN(db, ar, s); other.Region != got.Region || other.Source != got.Source {
				t.Fatalf("LookupASN(%s) = %+v over %s, but LookupASN(%s) = %+v", addr, got, scope, s, other)
			}
		}

		if plain.Source == SourceNetwork {
			if got != plain {
				t.Fatalf("LookupASN(%s) = %+v, but a network override decides: %+v", addr, got, plain)
			}
			return
		}
		if dbAliased(a) {
			return
		}
		res := reader.Lookup(a)
		var rec asnRecord
		if res.Err() != nil || (res.Found() && res.Decode(&rec) != nil) {
			t.Fatal(res.Err())
		}
		if name := fuzzASNRegions[rec.ASN]; res.Found() && name != "" {
			want := Result{Region: tbl.RegionIndex(name), Bits: uint8(max(res.Prefix().Bits(), ref.overrideScope(a))), Source: SourceASN, ASN: rec.ASN}
			if got != want {
				t.Fatalf("LookupASN(%s) = %+v, want %+v (AS network %s)", addr, got, want, res.Prefix())
			}
			return
		}
		if got.Region != plain.Region || got.Source != plain.Source || got.Country != plain.Country || got.ASN != 0 {
			t.Fatalf("LookupASN(%s) = %+v, but no listed AS holds it and Lookup = %+v", addr, got, plain)
		}
		if got.Bits < plain.Bits {
			t.Fatalf("LookupASN(%s).Bits = %d, wider than Lookup's %d", addr, got.Bits, plain.Bits)
		}
		if got.Bits > plain.Bits && !listedWithin(netip.PrefixFrom(a, int(got.Bits)-1).Masked(), a) {
			t.Fatalf("LookupASN(%s).Bits = %d (Lookup's %d), but no listed AS network lies in the /%d around it", addr, got.Bits, plain.Bits, got.Bits-1)
		}
	})
}
