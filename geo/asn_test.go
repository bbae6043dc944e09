package geo

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// maxmindDir holds copies of MaxMind's own test databases (see
// testdata/maxmind/LICENSE-*), so that a fresh clone tests against files
// written by MaxMind's writer rather than only by geotest.
const maxmindDir = "testdata/maxmind"

// mmNet is one network of a MaxMind JSON source file.
type mmNet struct {
	prefix netip.Prefix
	asn    uint32 // 0 when the record has none
}

// readSource reads a MaxMind source-data JSON file: a list of one-key
// objects, network to record. IPv4 networks written inside ::/96 are
// turned into the IPv4 networks lookups see.
func readSource(tb testing.TB, name string) []mmNet {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(maxmindDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	var list []map[string]struct {
		ASN uint32 `json:"autonomous_system_number"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		tb.Fatal(err)
	}
	var out []mmNet
	for _, m := range list {
		for k, rec := range m {
			p := netip.MustParsePrefix(k)
			if a := p.Addr(); a.Is6() && p.Bits() >= 96 && netip.MustParsePrefix("::/96").Contains(a) {
				b := a.As16()
				p = netip.PrefixFrom(netip.AddrFrom4([4]byte(b[12:])), p.Bits()-96)
			}
			out = append(out, mmNet{p, rec.ASN})
		}
	}
	return out
}

// TestMaxMindASNLayouts: both ASN layouts load, and every network their
// JSON sources list gets its AS number at its first and last address.
func TestMaxMindASNLayouts(t *testing.T) {
	for _, name := range []string{"GeoLite2-ASN-Test", "GeoIP2-ISP-Test"} {
		t.Run(name, func(t *testing.T) {
			a, err := OpenASNDB(filepath.Join(maxmindDir, name+".mmdb"))
			if err != nil {
				t.Fatal(err)
			}
			checked := 0
			nets := readSource(t, name+".json")
			for _, n := range nets {
				for _, addr := range []netip.Addr{n.prefix.Addr(), lastAddr(n.prefix)} {
					// Networks nest in the source: the longest one decides.
					n := longest(nets, addr)
					asn, bits, ok := a.Lookup(addr)
					if n.asn == 0 {
						if ok {
							t.Fatalf("%s (%s): ASN %d, want none", addr, n.prefix, asn)
						}
						continue
					}
					// MaxMind's writer merges neighbours with equal records,
					// so the network found may be wider than the one listed.
					if !ok || asn != n.asn {
						t.Fatalf("%s (%s): ASN %d /%d ok=%v, want %d /%d", addr, n.prefix, asn, bits, ok, n.asn, n.prefix.Bits())
					}
					checked++
				}
			}
			if checked < 100 {
				t.Fatalf("only %d addresses checked", checked)
			}
		})
	}
}

// longest returns the longest network of nets holding addr.
func longest(nets []mmNet, addr netip.Addr) mmNet {
	best := mmNet{prefix: netip.Prefix{}}
	for _, n := range nets {
		if n.prefix.Contains(addr) && (!best.prefix.IsValid() || n.prefix.Bits() > best.prefix.Bits()) {
			best = n
		}
	}
	return best
}

// TestLayoutMismatch: a database of the wrong kind is refused, naming the
// layout found and the one wanted.
func TestLayoutMismatch(t *testing.T) {
	_, err := OpenDB(filepath.Join(maxmindDir, "GeoLite2-ASN-Test.mmdb"))
	if err == nil || !strings.Contains(err.Error(), `"GeoLite2-ASN"`) || !strings.Contains(err.Error(), "Country or City") {
		t.Fatalf("ASN file as country database: %v", err)
	}
	_, err = OpenASNDB(filepath.Join(maxmindDir, "GeoLite2-Country-Test.mmdb"))
	if err == nil || !strings.Contains(err.Error(), `"GeoLite2-Country"`) || !strings.Contains(err.Error(), "GeoLite2-ASN or GeoIP2-ISP") {
		t.Fatalf("country file as ASN database: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "trunc.mmdb")
	raw, _ := os.ReadFile(filepath.Join(maxmindDir, "GeoLite2-ASN-Test.mmdb"))
	if err := os.WriteFile(bad, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenASNDB(bad); err == nil {
		t.Fatal("truncated ASN database loaded")
	}
}

func TestASNCodes(t *testing.T) {
	for _, code := range []string{"asn:", "asn:x", "asn:0", "asn:-1", "asn:4294967296", "asn:+5", "asn:015169"} {
		_, err := NewTable([]RegionSpec{{Name: "r", Codes: []string{code}}}, nil)
		if err == nil || !strings.Contains(err.Error(), "AS number") {
			t.Errorf("%q: %v", code, err)
		}
	}
	_, err := NewTable([]RegionSpec{{Name: "a", Codes: []string{"asn:1"}}, {Name: "b", Codes: []string{"asn:1"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), `already in region "a"`) {
		t.Errorf("duplicate: %v", err)
	}
}

// TestASNPrecedenceMaxMind runs the precedence and the map/table
// differential on MaxMind's own Country and ASN databases: expectations
// come from the JSON source.
func TestASNPrecedenceMaxMind(t *testing.T) {
	db, err := OpenDB(filepath.Join(maxmindDir, "GeoLite2-Country-Test.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := OpenASNDB(filepath.Join(maxmindDir, "GeoLite2-ASN-Test.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	nets := readSource(t, "GeoLite2-ASN-Test.json")
	// The AS of the first IPv4 network listed becomes a region; a
	// network spec over half of that network overrides it there.
	var listed uint32
	var pinned netip.Prefix
	for _, n := range nets {
		if n.asn != 0 && n.prefix.Addr().Is4() && n.prefix.Bits() < 32 {
			listed, pinned = n.asn, netip.PrefixFrom(n.prefix.Addr(), n.prefix.Bits()+1)
			break
		}
	}
	tbl, err := NewTable([]RegionSpec{
		{Name: "isp", Codes: []string{"asn:" + itoa(listed)}},
		{Name: "pinned"},
		{Name: "eu", Codes: []string{"EU", "AS", "NA", "OC"}},
		{Name: "rest", Codes: []string{"*"}},
	}, []NetworkSpec{{Prefix: pinned, Region: "pinned"}})
	if err != nil {
		t.Fatal(err)
	}
	ar := NewASNRegions(tbl, a)
	isp, pin := tbl.RegionIndex("isp"), tbl.RegionIndex("pinned")
	var addrs []netip.Addr
	var prefixes []netip.Prefix
	for _, n := range nets {
		prefixes = append(prefixes, n.prefix)
		for _, addr := range []netip.Addr{n.prefix.Addr(), lastAddr(n.prefix)} {
			n := longest(nets, addr)
			res := tbl.LookupASN(db, ar, addr)
			_, abits, _ := a.Lookup(addr)
			want := n.asn == listed
			switch {
			case pinned.Contains(addr):
				if res.Region != pin || res.Source != SourceNetwork {
					t.Fatalf("%s: %+v, want the network spec", addr, res)
				}
			case want && (res.Region != isp || res.Source != SourceASN || res.ASN != listed || res.Bits < abits):
				t.Fatalf("%s in %s (AS%d): %+v, want region isp from asn, scope at least %d", addr, n.prefix, n.asn, res, abits)
			case !want && res.Source == SourceASN:
				t.Fatalf("%s (AS%d): decided by ASN %d", addr, n.asn, res.ASN)
			}
		}
	}
	addrs = append(addrs, edgeAddrs(prefixes)...)
	m := NewSubnetMapASN(tbl, db, ar)
	if n := checkSubnetMapASN(t, m, tbl, db, ar, addrs); n == 0 {
		t.Fatal("the map answered nothing")
	}
	// Without the ASN database nothing is decided by ASN.
	if r := tbl.LookupASN(db, NewASNRegions(tbl, nil), nets[0].prefix.Addr()); r.Source == SourceASN {
		t.Fatalf("ASN decided without an ASN database: %+v", r)
	}
}

func itoa(n uint32) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// TestASNGeotest: on databases built here, ASN regions decide over the
// country, the ECS scope is the ASN network's, and a narrower network of
// an unlisted AS does not split the /24 map.
func TestASNGeotest(t *testing.T) {
	dir := t.TempDir()
	cpath := writeDB(t, dir, "c.mmdb", layoutCountry, testNets())
	db, err := OpenDB(cpath)
	if err != nil {
		t.Fatal(err)
	}
	apath := filepath.Join(dir, "a.mmdb")
	geotest.Write(t, apath, geotest.ISP, []geotest.Network{
		{CIDR: "1.16.0.0/20", ASN: 4766},
		{CIDR: "1.16.128.0/25", ASN: 9318}, // unlisted, narrower than /24
		{CIDR: "2400:1000::/40", ASN: 4766},
	})
	a, err := OpenASNDB(apath)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := NewTable([]RegionSpec{{Name: "kr_kt", Codes: []string{"asn:4766"}}, {Name: "kr", Codes: []string{"KR"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ar := NewASNRegions(tbl, a)
	for _, c := range []struct {
		addr   string
		region string
		source Source
		bits   uint8
	}{
		{"1.16.3.4", "kr_kt", SourceASN, 20},
		{"1.16.200.1", "kr", SourceCountry, 17},
		{"1.16.128.9", "kr", SourceCountry, 17},
		{"2400:1000::1", "kr_kt", SourceASN, 40},
		{"2400:1000:100::1", "kr", SourceCountry, 40},
	} {
		r := tbl.LookupASN(db, ar, netip.MustParseAddr(c.addr))
		if tbl.names[r.Region] != c.region || r.Source != c.source || r.Bits != c.bits {
			t.Errorf("%s: %s/%s/%d, want %s/%s/%d", c.addr, tbl.names[r.Region], r.Source, r.Bits, c.region, c.source, c.bits)
		}
	}
	m := NewSubnetMapASN(tbl, db, ar)
	if reg, src, ok := m.Lookup24(netip.MustParseAddr("1.16.128.9")); !ok || src != SourceCountry || tbl.names[reg] != "kr" {
		t.Errorf("map for an unlisted AS's /25: %d %s %v", reg, src, ok)
	}
	checkSubnetMapASN(t, m, tbl, db, ar, edgeAddrs([]netip.Prefix{
		netip.MustParsePrefix("1.16.0.0/20"), netip.MustParsePrefix("1.16.128.0/25"), netip.MustParsePrefix("1.16.0.0/16")}))
}

// TestASNWatcherReplacement: a corrupt replacement keeps the old ASN
// database and is reported; a good one takes over.
func TestASNWatcherReplacement(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "asn.mmdb")
	geotest.Write(t, path, geotest.ASN, []geotest.Network{{CIDR: "1.16.0.0/16", ASN: 4766}})
	loads, errs := make(chan *ASNDB, 8), make(chan error, 8)
	w, err := NewASNWatcher(path, func(a *ASNDB) { loads <- a }, func(err error) { errs <- err }, WithDebounce(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	first := <-loads
	if asn, _, _ := w.ASNDB().Lookup(netip.MustParseAddr("1.16.0.1")); asn != 4766 || w.ASNDB() != first {
		t.Fatalf("first load: AS%d", asn)
	}
	raw := geotest.Build(t, geotest.ASN, []geotest.Network{{CIDR: "1.16.0.0/16", ASN: 17858}})
	replace(t, path, raw[:len(raw)/3])
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "ASN database") {
			t.Fatalf("error does not say which database: %v", err)
		}
	case a := <-loads:
		t.Fatalf("corrupt file loaded: %+v", a.Info())
	case <-time.After(watchTimeout):
		t.Fatal("no error for a corrupt replacement")
	}
	if w.ASNDB() != first {
		t.Fatal("corrupt replacement dropped the old database")
	}
	replace(t, path, raw)
	select {
	case a := <-loads:
		if asn, _, _ := a.Lookup(netip.MustParseAddr("1.16.0.1")); asn != 17858 || w.ASNDB() != a {
			t.Fatalf("replacement: AS%d", asn)
		}
	case <-time.After(watchTimeout):
		t.Fatal("good replacement not loaded")
	}
}
