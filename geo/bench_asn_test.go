package geo

import (
	"bytes"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// syntheticASN builds a GeoLite2-ASN-shaped database of n IPv4 networks
// (/18 to /26, so some split /24s) and n/4 IPv6 ones, spread over the
// range sampleAddrs draws from, of ASes 1..20000; AS 1..3 hold a few
// thousand networks each, as a large ISP does.
func syntheticASN(tb testing.TB, n int) []byte {
	tb.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "GeoLite2-ASN", IncludeReservedNetworks: true, BuildEpoch: 1700000000})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	asn := func() mmdbtype.Map {
		a := 1 + rng.Uint32N(20000)
		if rng.IntN(20) == 0 {
			a = 1 + rng.Uint32N(3)
		}
		return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(a), "autonomous_system_organization": mmdbtype.String("Example")}
	}
	step := uint32(3<<30) / uint32(n)
	for i := range n {
		bits := 18 + rng.IntN(9)
		start := 1<<24 + uint32(i)*step
		ip := net.IPv4(byte(start>>24), byte(start>>16), byte(start>>8), byte(start)).Mask(net.CIDRMask(bits, 32))
		if err := tree.Insert(&net.IPNet{IP: ip, Mask: net.CIDRMask(bits, 32)}, asn()); err != nil {
			tb.Fatal(err)
		}
	}
	for i := range n / 4 {
		ip := make(net.IP, 16)
		hi := uint64(0x2400)<<48 + uint64(i)*(uint64(1)<<47/uint64(n/4))
		for j := range 8 {
			ip[j] = byte(hi >> (56 - 8*j))
		}
		bits := 32 + rng.IntN(17)
		if err := tree.Insert(&net.IPNet{IP: ip.Mask(net.CIDRMask(bits, 128)), Mask: net.CIDRMask(bits, 128)}, asn()); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkSubnetMapASN is BenchmarkSubnetMap with and without an ASN
// database of 100k networks whose three largest ASes are regions: the map
// must answer as fast with them, and decline no more /24s than the
// networks narrower than /24 of the listed ASes split.
func BenchmarkSubnetMapASN(b *testing.B) {
	db := benchDB(b)
	path := filepath.Join(b.TempDir(), "asn.mmdb")
	if err := os.WriteFile(path, syntheticASN(b, 100_000), 0o644); err != nil {
		b.Fatal(err)
	}
	a, err := OpenASNDB(path)
	if err != nil {
		b.Fatal(err)
	}
	tbl := mustTable(b, []RegionSpec{
		{Name: "isp1", Codes: []string{"asn:1"}},
		{Name: "isp2", Codes: []string{"asn:2", "asn:3"}},
		{Name: "kr", Codes: []string{"KR"}},
		{Name: "eu", Codes: []string{"EU"}},
		{Name: "rest", Codes: []string{"*"}},
	}, nil)
	ar := NewASNRegions(tbl, a)
	addrs := sampleAddrs(1<<16, false)
	addrs6 := sampleAddrs(1<<16, true)
	for _, c := range []struct {
		name string
		ar   *ASNRegions
	}{{"noasn", nil}, {"asn", ar}} {
		m := NewSubnetMapASN(tbl, db, c.ar)
		declined := 0
		for _, x := range addrs {
			if _, _, ok := m.Lookup24(x); !ok {
				declined++
			}
		}
		b.Logf("%s: %d of 65536 /16s kept per /24; %d of %d sampled addresses left to the table", c.name, m.Blocks(), declined, len(addrs))
		b.Run("map/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				m.Lookup24(addrs[i&(len(addrs)-1)])
				i++
			}
		})
		for _, v := range []struct {
			name  string
			addrs []netip.Addr
		}{{"IPv4", addrs}, {"IPv6", addrs6}} {
			b.Run("table/"+v.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				var sink Result
				i := 0
				for b.Loop() {
					sink = tbl.LookupASN(db, c.ar, v.addrs[i&(len(v.addrs)-1)])
					i++
				}
				_ = sink
			})
		}
		b.Run("build/"+c.name, func(b *testing.B) {
			for b.Loop() {
				NewSubnetMapASN(tbl, db, c.ar)
			}
		})
	}
}
