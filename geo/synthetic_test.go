package geo

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// syntheticDB builds a Country-layout database shaped like GeoLite2-Country
// (whose license keeps it out of the repository): n4 IPv4 and n6 IPv6
// disjoint networks of typical lengths, each in one of the 249 countries,
// whose records carry names in eight languages.
func syntheticDB(tb testing.TB, n4, n6 int) []byte {
	tb.Helper()
	langs := []string{"de", "en", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"}
	var records []mmdbtype.Map
	for i := 0; i < len(assignedCountries); i += 3 {
		cc := assignedCountries[i : i+2]
		cont := continentCodes[(i/3%numContinents)*3:][:2]
		nm := mmdbtype.Map{}
		for _, l := range langs {
			nm[mmdbtype.String(l)] = mmdbtype.String("Country " + cc + " in " + l)
		}
		country := mmdbtype.Map{
			"geoname_id": mmdbtype.Uint32(1000000 + i),
			"iso_code":   mmdbtype.String(cc),
			"names":      nm,
		}
		records = append(records, mmdbtype.Map{
			"continent": mmdbtype.Map{
				"code":       mmdbtype.String(cont),
				"geoname_id": mmdbtype.Uint32(6255140 + i%7),
				"names":      mmdbtype.Map{"en": mmdbtype.String("Continent " + cont)},
			},
			"country":            country,
			"registered_country": country,
		})
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            layoutCountry,
		Languages:               langs,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	insert := func(ip net.IP, plen, bitlen int) {
		n := &net.IPNet{IP: ip, Mask: net.CIDRMask(plen, bitlen)}
		if err := tree.Insert(n, records[rng.IntN(len(records))]); err != nil {
			tb.Fatalf("insert %s: %v", n, err)
		}
	}
	cursor := uint64(1 << 24) // 1.0.0.0
	for range n4 {
		plen := 18 + rng.IntN(7)
		size := uint64(1) << (32 - plen)
		cursor = (cursor + size - 1) &^ (size - 1)
		if rng.IntN(10) == 0 {
			cursor += size // leave a gap, as real data has
		}
		if cursor+size > 1<<32 {
			tb.Fatalf("%d IPv4 networks do not fit", n4)
		}
		insert(binary.BigEndian.AppendUint32(nil, uint32(cursor)), plen, 32)
		cursor += size
	}
	hi := uint64(0x2400) << 48 // 2400::
	for range n6 {
		plen := 32 + rng.IntN(17)
		size := uint64(1) << (64 - plen)
		hi = (hi + size - 1) &^ (size - 1)
		if rng.IntN(10) == 0 {
			hi += size
		}
		ip := make(net.IP, net.IPv6len)
		binary.BigEndian.PutUint64(ip, hi)
		insert(ip, plen, 128)
		hi += size
	}
	var buf bytes.Buffer
	if _, err := tree.WriteTo(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// sampleAddrs returns n addresses spread over the synthetic database's
// IPv4 or IPv6 range, so a benchmark does not keep hitting one cache line.
func sampleAddrs(n int, v6 bool) []netip.Addr {
	rng := rand.New(rand.NewPCG(3, 4))
	out := make([]netip.Addr, n)
	for i := range out {
		if v6 {
			var b [16]byte
			binary.BigEndian.PutUint64(b[:8], 0x2400<<48+rng.Uint64N(1<<47))
			binary.BigEndian.PutUint64(b[8:], rng.Uint64())
			out[i] = netip.AddrFrom16(b)
		} else {
			out[i] = netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, 1<<24+rng.Uint32N(3<<30))))
		}
	}
	return out
}
