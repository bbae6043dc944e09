package dnsserver

import "testing"

// BenchmarkSteeredECSGeo is a steered query with ECS through the region
// map, with and without an ASN database loaded (asnHandler): a subnet an
// AS decides and one the country decides beside it, in IPv4 (the /24
// map) and in IPv6 (the /56 map).
func BenchmarkSteeredECSGeo(b *testing.B) {
	for _, withASN := range []bool{false, true} {
		h := asnHandler(b, withASN)
		name := map[bool]string{false: "asn=no", true: "asn=yes"}[withASN]
		b.Run("ip=IPv4/subnet=kt/"+name, func(b *testing.B) { benchHandler(b, h, ecsQuery(1, 24, 0, []byte{1, 16, 5})) })
		b.Run("ip=IPv4/subnet=kr/"+name, func(b *testing.B) { benchHandler(b, h, ecsQuery(1, 24, 0, []byte{1, 16, 200})) })
		b.Run("ip=IPv6/subnet=kt/"+name, func(b *testing.B) {
			benchHandler(b, h, ecsQuery(2, 56, 0, []byte{0x24, 0, 0x10, 0, 0, 1, 0}))
		})
		b.Run("ip=IPv6/subnet=kr/"+name, func(b *testing.B) {
			benchHandler(b, h, ecsQuery(2, 56, 0, []byte{0x24, 0, 0x10, 0, 0, 5, 0}))
		})
	}
}
