package rrl

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkDecide is the common case: one client network, one name,
// mostly limited (a flood), time moving on.
func BenchmarkDecide(b *testing.B) {
	l := newLimiter(b, DefaultConfig())
	b.ReportAllocs()
	now := int64(0)
	for b.Loop() {
		now += 1000
		l.Decide(client, ClassAnswer, www, dns.TypeA, now)
	}
}

// BenchmarkDecideManyKeys sprays keys over a full table: every call
// misses and evicts, the worst case for the scan.
func BenchmarkDecideManyKeys(b *testing.B) {
	l := newLimiter(b, DefaultConfig())
	b.ReportAllocs()
	var addr [16]byte
	addr[0] = 0x20
	i := uint64(0)
	for b.Loop() {
		i++
		binary.BigEndian.PutUint64(addr[:8], 0x2001_0db8_0000_0000|i<<8)
		l.Decide(netip.AddrFrom16(addr), ClassAnswer, www, dns.TypeA, int64(i)*1000)
	}
}

// BenchmarkDecideWithNow includes reading the Limiter's clock, as a
// caller without a timestamp at hand would.
func BenchmarkDecideWithNow(b *testing.B) {
	l := newLimiter(b, DefaultConfig())
	b.ReportAllocs()
	for b.Loop() {
		l.Decide(client, ClassAnswer, www, dns.TypeA, l.Now())
	}
}

// BenchmarkDecideParallel: every core answering its own clients.
func BenchmarkDecideParallel(b *testing.B) {
	l := newLimiter(b, DefaultConfig())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		var addr [4]byte
		binary.BigEndian.PutUint32(addr[:], uint32(l.Now()))
		c := netip.AddrFrom4(addr)
		i := 0
		for pb.Next() {
			i++
			l.Decide(c, ClassAnswer, www, uint16(i%8), l.Now())
		}
	})
}

// BenchmarkDecideParallelOneKey: every core answering one flooded key,
// the worst case for compare-and-swap contention.
func BenchmarkDecideParallelOneKey(b *testing.B) {
	l := newLimiter(b, DefaultConfig())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Decide(client, ClassAnswer, www, dns.TypeA, l.Now())
		}
	})
}

func BenchmarkTruncate(b *testing.B) {
	pkt := bigResponse(b, dns.RcodeSuccess)
	buf := make([]byte, len(pkt))
	b.ReportAllocs()
	for b.Loop() {
		copy(buf, pkt)
		Truncate(buf)
	}
}
