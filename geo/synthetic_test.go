package geo

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// syntheticDB builds a database shaped like GeoLite2-Country with n4 IPv4
// and n6 IPv6 networks (see geotest.Synthetic).
func syntheticDB(tb testing.TB, n4, n6 int) []byte {
	tb.Helper()
	data, err := geotest.Synthetic(Countries(), Continents(), n4, n6)
	if err != nil {
		tb.Fatal(err)
	}
	return data
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
