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

// BenchmarkSubnetMapASN is the nameserver's region lookup (the map, the
// table where the map declines) against the table alone, for IPv4 and
// IPv6, with and without an ASN database of 100k networks whose three
// largest ASes are regions: the map must answer as fast with them, decline
// no more /24s (/56s) than the networks narrower than that of the listed
// ASes split, and answer IPv6 about as fast as IPv4.
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
	type variant struct {
		name string
		ar   *ASNRegions
		m    *SubnetMap
	}
	// Both maps are built before either is measured, so that neither
	// runs right after the other's build (its garbage, its fresh pages).
	vs := []variant{{"asn=no", nil, nil}, {"asn=yes", ar, nil}}
	for i := range vs {
		c := &vs[i]
		c.m = NewSubnetMapASN(tbl, db, c.ar)
		declined, declined6 := 0, 0
		for i := range addrs {
			if _, _, ok := c.m.Lookup24(addrs[i]); !ok {
				declined++
			}
			if _, _, ok := c.m.Lookup56(addrs6[i]); !ok {
				declined6++
			}
		}
		b.Logf("%s: %d of 65536 /16s kept per /24, %d IPv6 nodes (%d KiB); sampled addresses left to the table: %d of %d IPv4, %d of %d IPv6",
			c.name, c.m.Blocks(), c.m.Nodes6(), c.m.Bytes6()>>10, declined, len(addrs), declined6, len(addrs6))
	}
	for _, v := range []struct {
		name  string
		addrs []netip.Addr
	}{{"IPv4", addrs}, {"IPv6", addrs6}} {
		for _, c := range vs {
			// LookupSubnet, then the table for what the map declines, as
			// the nameserver does.
			b.Run("map/ip="+v.name+"/"+c.name, func(b *testing.B) {
				b.ReportAllocs()
				var sink int
				i := 0
				for b.Loop() {
					a := v.addrs[i&(len(v.addrs)-1)]
					r, _, _, ok := c.m.LookupSubnet(a)
					if !ok {
						r = tbl.LookupASN(db, c.ar, a).Region
					}
					sink += r
					i++
				}
				_ = sink
			})
		}
		for _, c := range vs {
			b.Run("table/ip="+v.name+"/"+c.name, func(b *testing.B) {
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
	}
	for _, c := range vs {
		b.Run("build/"+c.name, func(b *testing.B) {
			for b.Loop() {
				NewSubnetMapASN(tbl, db, c.ar)
			}
		})
	}
}
