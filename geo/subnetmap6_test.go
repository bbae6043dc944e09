package geo

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/oschwald/maxminddb-golang/v2"
)

// checkMapExact is the differential test of the map against the full
// search, for either family: the map must answer for addr exactly when
// the search's answer holds over addr's whole client subnet (/24, /56) —
// which Result.Bits, the prefix over which an answer holds, tells from one
// search — and then with the search's region and source. The subnet's
// first and last addresses are searched too, so that a wrong Bits cannot
// hide a wrong map. With exact false (a map out of room) it may decline
// more.
func checkMapExact(tb testing.TB, m *SubnetMap, t *Table, db *DB, ar *ASNRegions, addrs []netip.Addr, exact bool) (answered4, answered6 int) {
	tb.Helper()
	for _, a := range addrs {
		res := t.LookupASN(db, ar, a)
		region, source, bits, ok := m.LookupSubnet(a)
		u := a.Unmap()
		wantBits := uint8(subnetBits6)
		if u.Is4() {
			wantBits = 24
		}
		holds := res.Bits <= wantBits
		switch {
		case ok && !holds:
			tb.Fatalf("%s: map answers region %d (%s), but the search's answer (%+v) holds only over a /%d", a, region, source, res, res.Bits)
		case !ok && holds && exact:
			tb.Fatalf("%s: map declines, but the search's answer %+v holds over the whole /%d", a, res, wantBits)
		case ok && (region != res.Region || source != res.Source || bits != wantBits):
			tb.Fatalf("%s: map answers region %d (%s) /%d, search %+v", a, region, source, bits, res)
		}
		if !ok {
			continue
		}
		p := netip.PrefixFrom(u, int(wantBits)).Masked()
		for _, x := range []netip.Addr{p.Addr(), lastAddr(p)} {
			if r := t.LookupASN(db, ar, x); r.Region != region || r.Source != source {
				tb.Fatalf("%s: map answers region %d (%s) for %s, but the search gives %s %+v", a, region, source, p, x, r)
			}
		}
		if u.Is4() {
			answered4++
		} else {
			answered6++
		}
	}
	return answered4, answered6
}

// ccNet is one network of a MaxMind Country or City JSON source.
type ccNet struct {
	prefix  netip.Prefix
	country string // country, else registered country; "" if neither
}

// readCountrySource reads the networks of a Country or City JSON source
// (IPv4 networks written in ::/96 as the IPv4 networks lookups see).
func readCountrySource(tb testing.TB, name string) []ccNet {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(maxmindDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	type cc struct {
		ISO string `json:"iso_code"`
	}
	var list []map[string]struct {
		Country    cc `json:"country"`
		Registered cc `json:"registered_country"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		tb.Fatal(err)
	}
	var out []ccNet
	for _, m := range list {
		for k, rec := range m {
			c := rec.Country.ISO
			if c == "" {
				c = rec.Registered.ISO
			}
			out = append(out, ccNet{unmapSource(netip.MustParsePrefix(k)), c})
		}
	}
	return out
}

func unmapSource(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is6() && p.Bits() >= 96 && netip.MustParsePrefix("::/96").Contains(a) {
		b := a.As16()
		return netip.PrefixFrom(netip.AddrFrom4([4]byte(b[12:])), p.Bits()-96)
	}
	return p
}

// mmdbPrefixes lists every network of a MaxMind DB file, walked by
// maxminddb itself.
func mmdbPrefixes(tb testing.TB, path string) []netip.Prefix {
	tb.Helper()
	r, err := maxminddb.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var out []netip.Prefix
	for res := range r.Networks() {
		if err := res.Err(); err != nil {
			tb.Fatal(err)
		}
		out = append(out, res.Prefix())
	}
	return out
}

// addAt returns p's address plus off in units of a /bits.
func addAt(p netip.Prefix, off uint64, bits int) netip.Addr {
	hi, lo := split6(p.Addr())
	if bits <= 64 {
		hi += off << (64 - bits)
	} else {
		lo += off << (128 - bits)
	}
	return join6(hi, lo)
}

// mostCountries returns the countries with the most IPv6 networks in nets.
func mostCountries(nets []ccNet, n int) []string {
	count := map[string]int{}
	for _, x := range nets {
		if x.prefix.Addr().Is6() && x.country != "" {
			count[x.country]++
		}
	}
	var cs []string
	for c := range count {
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return map[bool]int{true: -1, false: 1}[a < b]
	})
	return cs[:n]
}

// TestSubnetMapMaxMind is the differential test on MaxMind's own
// databases: every Country and City layout, with no ASN database, the
// ASN one and the ISP one. Regions come from the data (the two countries
// with the most IPv6 networks, Europe, ASes with IPv6 and IPv4
// networks, "*"), network specs of every length from /40 to /128 sit
// inside the data's IPv6 networks; the addresses are every network's
// edges ±1 in every file, the specs' edges, and random ones.
func TestSubnetMapMaxMind(t *testing.T) {
	src := readCountrySource(t, "GeoLite2-Country-Test.json")
	top := mostCountries(src, 2)
	asnSrc := readSource(t, "GeoLite2-ASN-Test.json")
	var asns []string
	n4, n6 := 0, 0
	for _, n := range asnSrc {
		code := "asn:" + strconv.FormatUint(uint64(n.asn), 10)
		is4 := n.prefix.Addr().Is4()
		if n.asn == 0 || slices.Contains(asns, code) || (is4 && n4 >= 1) || (!is4 && n6 >= 2) {
			continue
		}
		if is4 {
			n4++
		} else {
			n6++
		}
		asns = append(asns, code)
	}
	if len(asns) < 3 {
		t.Fatalf("ASN source: want two ASes with IPv6 networks and one with IPv4, got %v", asns)
	}

	// Specs inside the first IPv6 network of the top country, at every
	// length around the /56, and two inside an IPv4 network.
	var v6net, v4net netip.Prefix
	for _, n := range src {
		if n.country == top[0] && n.prefix.Addr().Is6() && !v6net.IsValid() {
			v6net = n.prefix
		}
		if n.prefix.Addr().Is4() && n.prefix.Bits() <= 24 && !v4net.IsValid() {
			v4net = n.prefix
		}
	}
	var specs []NetworkSpec
	for i, bits := range []int{40, 48, 52, 55, 56, 57, 60, 64, 128} {
		a := addAt(v6net, uint64(i+1)*3, 40)
		specs = append(specs, NetworkSpec{Prefix: netip.PrefixFrom(a, bits).Masked(), Region: "pinned"})
	}
	specs = append(specs,
		NetworkSpec{Prefix: netip.PrefixFrom(v4net.Addr(), 25), Region: "pinned"},
		NetworkSpec{Prefix: netip.PrefixFrom(netip.AddrFrom4(be4(split4(v4net.Addr())+200)), 32), Region: "pinned"})
	regions := []RegionSpec{
		{Name: "c1", Codes: []string{top[0]}},
		{Name: "c2", Codes: []string{top[1]}},
		{Name: "eu", Codes: []string{"EU"}},
		{Name: "isp1", Codes: asns[:1]},
		{Name: "isp2", Codes: asns[1:]},
		{Name: "pinned"},
		{Name: "rest", Codes: []string{"*"}},
	}
	tbl := mustTable(t, regions, specs)

	rng := rand.New(rand.NewPCG(21, 56))
	var prefixes []netip.Prefix
	for _, s := range specs {
		prefixes = append(prefixes, s.Prefix)
	}
	files, _ := filepath.Glob(filepath.Join(maxmindDir, "*.mmdb"))
	for _, f := range files {
		prefixes = append(prefixes, mmdbPrefixes(t, f)...)
	}
	addrs := edgeAddrs(prefixes)
	for _, p := range prefixes {
		// A random address inside each network, and in its /56 or /24.
		hi, lo := split6(p.Addr())
		if p.Addr().Is4() {
			a := split4(p.Addr()) | rng.Uint32()&uint32(lowMask32(uint32(p.Bits())))
			addrs = append(addrs, netip.AddrFrom4(be4(a)))
			continue
		}
		if p.Bits() < 64 {
			hi |= rng.Uint64() & lowMask64(uint32(p.Bits()))
			lo = rng.Uint64()
		}
		addrs = append(addrs, join6(hi, lo))
	}
	for range 5000 {
		addrs = append(addrs, join6(0x2000<<48|rng.Uint64()>>3, rng.Uint64()), join6(rng.Uint64(), rng.Uint64()),
			netip.AddrFrom4(be4(rng.Uint32())))
	}

	for _, cf := range []string{"GeoLite2-Country-Test", "GeoIP2-Country-Test", "GeoLite2-City-Test", "GeoIP2-City-Test"} {
		db, err := OpenDB(filepath.Join(maxmindDir, cf+".mmdb"))
		if err != nil {
			t.Fatal(err)
		}
		for _, af := range []string{"", "GeoLite2-ASN-Test", "GeoIP2-ISP-Test"} {
			t.Run(cf+"+"+af, func(t *testing.T) {
				var a *ASNDB
				if af != "" {
					if a, err = OpenASNDB(filepath.Join(maxmindDir, af+".mmdb")); err != nil {
						t.Fatal(err)
					}
				}
				ar := NewASNRegions(tbl, a)
				m := NewSubnetMapASN(tbl, db, ar)
				a4, a6 := checkMapExact(t, m, tbl, db, ar, addrs, true)
				t.Logf("%d IPv6 trie nodes; answered %d IPv4, %d IPv6 of %d addresses", m.Nodes6(), a4, a6, len(addrs))
				if a4 == 0 || a6 == 0 || m.Nodes6() == 0 {
					t.Fatal("the map answered nothing for a family, or built no trie node")
				}
				// Each kind of answer is exercised in IPv6: declined, and
				// decided by a spec, an AS (with an ASN database), a country.
				seen := map[Source]int{}
				for _, x := range addrs {
					if x.Is6() {
						_, src, ok := m.Lookup56(x)
						if !ok {
							src = Source(NumSources)
						}
						seen[src]++
					}
				}
				for _, src := range []Source{Source(NumSources), SourceNetwork, SourceCountry, SourceContinent, SourceDefault} {
					if seen[src] == 0 {
						t.Errorf("no IPv6 answer of kind %d (%s; %d = declined): %v", src, src, NumSources, seen)
					}
				}
				if (seen[SourceASN] > 0) != (a != nil) {
					t.Errorf("IPv6 answers by ASN: %d, with an ASN database: %v", seen[SourceASN], a != nil)
				}
				if cf != "GeoLite2-Country-Test" && cf != "GeoLite2-City-Test" {
					return // no JSON source to derive from
				}
				// From the JSON: the first address of every IPv6 network of
				// the top countries that no spec or listed AS decides is
				// answered by the map with that country's region.
				for _, n := range src {
					i := slices.Index(top, n.country)
					addr := n.prefix.Addr()
					if i < 0 || !addr.Is6() || slices.ContainsFunc(specs, func(s NetworkSpec) bool { return s.Prefix.Contains(addr) }) {
						continue
					}
					if asn, _, ok := a.Lookup(addr); ok && slices.Contains(asns, "asn:"+strconv.FormatUint(uint64(asn), 10)) {
						continue
					}
					region, source, ok := m.Lookup56(addr)
					if !ok || region != tbl.RegionIndex([]string{"c1", "c2"}[i]) || source != SourceCountry {
						t.Fatalf("%s (%s, %s): map %d %s ok=%v", addr, n.prefix, n.country, region, source, ok)
					}
				}
			})
		}
	}
}

// TestSubnetMap6Geotest: known answers on a database built here with
// IPv6 networks narrower and wider than /56, nested in each other.
func TestSubnetMap6Geotest(t *testing.T) {
	nets := append(testNets(),
		testNet{cidr: "2400:1000:0:100::/56", country: "JP", continent: "AS"},
		testNet{cidr: "2400:1000:0:200::/60", country: "DE", continent: "EU"},
		testNet{cidr: "2400:1000:0:300::/57", country: "KR", continent: "AS"},
		testNet{cidr: "2400:1000:0:380::/57", registered: "KR"}, // not merged with the other
		testNet{cidr: "2400:1000:1::/48", country: "US", continent: "NA"},
	)
	db := openTestDB(t, layoutCountry, nets)
	tbl := mustTable(t, testRegions(), append(testNetworks(),
		NetworkSpec{Prefix: netip.MustParsePrefix("2400:1000:0:400::/64"), Region: "eu"},
		NetworkSpec{Prefix: netip.MustParsePrefix("2400:1000:200::/40"), Region: "jp"}))
	m := NewSubnetMap(tbl, db)
	for _, c := range []struct {
		addr   string
		region string
		source Source
		ok     bool
	}{
		{"2400:1000::1", "kr", SourceCountry, true},
		{"2400:1000:0:1ff::1", "jp", SourceCountry, true},   // a /56 network
		{"2400:1000:0:2ff::1", "", SourceNone, false},       // a /60 splits it
		{"2400:1000:0:3ff::1", "", SourceNone, false},       // two /57s of one country: still split
		{"2400:1000:0:4ff::1", "", SourceNone, false},       // a /64 spec inside
		{"2400:1000:1:ff00::1", "us", SourceCountry, true},  // a /48 network
		{"2400:1000:2ff:1234::", "jp", SourceNetwork, true}, // a /40 spec
		{"2001:200:ffff:ffff::", "jp", SourceCountry, true}, // a /32 network
		{"2600:1:8000::", "eu", SourceContinent, true},      // DE /32 inside US /16
		{"2600:2::", "us", SourceCountry, true},             // the US /16 around it
		{"2c0f::1", "rest", SourceDefault, true},            // nothing here
		{"::ffff:1.16.3.4", "", SourceNone, false},          // IPv4 is Lookup24's
		{"2a00:1450:ff::", "us", SourceNetwork, true},       // a /32 spec in a DE /16
	} {
		region, source, ok := m.Lookup56(netip.MustParseAddr(c.addr))
		if ok != c.ok || (ok && (region != tbl.RegionIndex(c.region) || source != c.source)) {
			t.Errorf("%s: got region %d %s ok=%v, want %q %s ok=%v", c.addr, region, source, ok, c.region, c.source, c.ok)
		}
	}
	var prefixes []netip.Prefix
	for _, n := range nets {
		prefixes = append(prefixes, netip.MustParsePrefix(n.cidr))
	}
	for _, n := range testNetworks() {
		prefixes = append(prefixes, unmapPrefix(n.Prefix))
	}
	addrs := append(edgeAddrs(prefixes), sampleAddrs(2000, true)...)
	if _, a6 := checkMapExact(t, m, tbl, db, nil, addrs, true); a6 < len(addrs)/4 {
		t.Errorf("the map answered only %d IPv6 addresses of %d", a6, len(addrs))
	}
}

// TestSubnetMap6Large: a synthetic database of 20,000 IPv6 networks from
// /32 to /48 with regions by continent, which gives the trie thousands of
// nodes; then the same with room for only 40 inner nodes, where the
// narrow prefixes are left to the search and the wide ones still
// answered.
func TestSubnetMap6Large(t *testing.T) {
	db := openBytes(t, filepath.Join(t.TempDir(), "synthetic.mmdb"), syntheticDB(t, 1000, 20000))
	tbl := mustTable(t, []RegionSpec{
		{Name: "as", Codes: []string{"AS"}},
		{Name: "eu", Codes: []string{"EU"}},
		{Name: "kr", Codes: []string{"KR"}},
		{Name: "rest", Codes: []string{"*"}},
	}, []NetworkSpec{{Prefix: netip.MustParsePrefix("2400:0:1234:5600::/57"), Region: "kr"}})
	var prefixes []netip.Prefix
	for i, p := range mmdbPrefixesBytes(t, db) {
		if i%7 == 0 {
			prefixes = append(prefixes, p)
		}
	}
	addrs := append(edgeAddrs(prefixes), sampleAddrs(20000, true)...)
	full := NewSubnetMap(tbl, db)
	_, a6 := checkMapExact(t, full, tbl, db, nil, addrs, true)
	t.Logf("%d trie nodes; answered %d of %d IPv6 addresses", full.Nodes6(), a6, len(addrs))
	if full.Nodes6() < 1000 || a6 < len(addrs)*9/10 {
		t.Fatalf("%d nodes, %d of %d answered: want a large trie answering nearly all", full.Nodes6(), a6, len(addrs))
	}

	defer func(n int) { maxTrieBytes = n }(maxTrieBytes)
	maxTrieBytes = 40 * 512
	small := NewSubnetMap(tbl, db)
	if small.Bytes6() > maxTrieBytes {
		t.Fatalf("%d bytes of nodes, more than the %d allowed", small.Bytes6(), maxTrieBytes)
	}
	declined := 0
	for _, a := range addrs {
		_, _, fullOK := full.Lookup56(a)
		r, s, ok := small.Lookup56(a)
		switch {
		case ok && !fullOK:
			t.Fatalf("%s: the small trie answers (%d %s) where the full one declines", a, r, s)
		case fullOK && !ok:
			declined++
		}
	}
	_, s6 := checkMapExact(t, small, tbl, db, nil, addrs, false)
	if declined == 0 || s6 == 0 {
		t.Fatalf("out of nodes: %d answered, %d more declined than with room: want both", s6, declined)
	}
	// Breadth first: the root and the /24 nodes are made before any
	// deeper one, so a /24 the data leaves whole still answers.
	if _, _, ok := small.Lookup56(netip.MustParseAddr("2500::1")); !ok {
		t.Fatal("a prefix no network divides is declined when out of nodes")
	}
}

// mmdbPrefixesBytes lists the IPv6 networks of a loaded database.
func mmdbPrefixesBytes(tb testing.TB, db *DB) []netip.Prefix {
	tb.Helper()
	var out []netip.Prefix
	s := &db.nets
	for i := range s.v6hi {
		out = append(out, netip.PrefixFrom(join6(s.v6hi[i], s.v6lo[i]), int(s.v6val[i]&0xff)))
	}
	return out
}

func TestSubnetMap6DoesNotAllocate(t *testing.T) {
	tbl := mustTable(t, testRegions(), testNetworks())
	m := NewSubnetMap(tbl, openTestDB(t, layoutCountry, testNets()))
	for _, s := range []string{"2400:1000::1", "1.16.200.1", "2001:db8::1"} {
		a := netip.MustParseAddr(s)
		if n := testing.AllocsPerRun(1000, func() { m.LookupSubnet(a) }); n != 0 {
			t.Errorf("LookupSubnet(%s) allocates %v times", s, n)
		}
	}
}
