package geo

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
)

// prefixSet is an immutable, sorted set of disjoint prefixes, each carrying
// a small value. Both the CIDR overrides and a loaded database are flattened
// into one, so a lookup is a binary search over plain integer slices: no
// pointers to chase, no locks, no allocation, and a few bytes per prefix.
//
// Starts and values live in separate slices because the search touches
// only the starts; keeping them dense halves the cache lines it pulls in.
type prefixSet struct {
	v4    []uint32 // first address of each IPv4 prefix, ascending
	v4val []uint32 // value<<8 | prefix length
	v4idx []uint32 // nil, or v4idx[k] = first i with v4[i]>>16 >= k

	v6hi  []uint64 // first address of each IPv6 prefix, high half
	v6lo  []uint64 // ... and low half
	v6val []uint32 // value<<8 | prefix length
	v6smp []uint64 // nil, or v6hi[j*sampleStride] for every j
}

const (
	// maxSetValue bounds the value packed above the prefix length.
	maxSetValue = 1<<24 - 1
	// indexMinLen is the size from which the first-level indexes pay for
	// themselves: they turn ~18 dependent cache misses of a binary search
	// over a real database into a handful.
	indexMinLen = 4096
	// indexLen covers the IPv4 index by the top 16 address bits. IPv4
	// space is used densely enough for that to split a database evenly.
	indexLen = 1<<16 + 1
	// sampleStride spaces the IPv6 samples. IPv6 networks crowd into a
	// few /12s, so a fixed-bit index would leave huge buckets; every 16th
	// start is an index that follows the data, small enough (8 bytes per
	// 16 networks) to stay in cache, with a 128-byte block left to search.
	sampleStride = 16
)

// find4 returns the value and length of the member prefix holding a. When
// no member holds a, found is false and plen is the length of the shortest
// prefix around a that overlaps no member: the widest scope an answer for
// a can claim without speaking for addresses some member decides.
func (s *prefixSet) find4(a uint32) (val uint32, plen uint8, found bool) {
	lo, hi := 0, len(s.v4)
	if s.v4idx != nil {
		k := a >> 16
		lo, hi = int(s.v4idx[k]), int(s.v4idx[k+1])
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.v4[m] <= a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	// lo is now the number of starts <= a: lo-1 is the only member that can
	// hold a, and it and lo are the members sharing the most leading bits
	// with a, which is all the gap length needs.
	var scope uint8
	if lo > 0 {
		m := s.v4val[lo-1]
		c := uint8(bits.LeadingZeros32(a ^ s.v4[lo-1]))
		if c >= uint8(m) {
			return m >> 8, uint8(m), true
		}
		scope = c + 1
	}
	if lo < len(s.v4) {
		scope = max(scope, uint8(bits.LeadingZeros32(a^s.v4[lo]))+1)
	}
	return 0, scope, false
}

// find6 is find4 for IPv6 addresses split into two 64-bit halves.
func (s *prefixSet) find6(ahi, alo uint64) (val uint32, plen uint8, found bool) {
	lo, hi := 0, len(s.v6hi)
	if s.v6smp != nil {
		lo, hi = s.v6block(ahi)
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h := s.v6hi[m]; h < ahi || (h == ahi && s.v6lo[m] <= alo) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	var scope uint8
	if lo > 0 {
		m := s.v6val[lo-1]
		c := commonBits128(ahi, alo, s.v6hi[lo-1], s.v6lo[lo-1])
		if c >= uint8(m) {
			return m >> 8, uint8(m), true
		}
		scope = c + 1
	}
	if lo < len(s.v6hi) {
		scope = max(scope, commonBits128(ahi, alo, s.v6hi[lo], s.v6lo[lo])+1)
	}
	return 0, scope, false
}

// v6block narrows the search for ahi to the entries between two samples.
// Entries before lo are below any address with high half ahi, entries from
// hi on are above it.
func (s *prefixSet) v6block(ahi uint64) (lo, hi int) {
	smp := s.v6smp
	a, b := 0, len(smp)
	for a < b {
		m := int(uint(a+b) >> 1)
		if smp[m] < ahi {
			a = m + 1
		} else {
			b = m
		}
	}
	// a samples are below ahi; more than /64 prefixes can give several
	// entries the same high half, so skip samples equal to it.
	c := a
	for c < len(smp) && smp[c] == ahi {
		c++
	}
	if a > 0 {
		lo = (a - 1) * sampleStride
	}
	return lo, min(len(s.v6hi), c*sampleStride)
}

// commonBits128 counts the leading bits two IPv6 addresses share.
func commonBits128(ahi, alo, bhi, blo uint64) uint8 {
	if x := ahi ^ bhi; x != 0 {
		return uint8(bits.LeadingZeros64(x))
	}
	return 64 + uint8(bits.LeadingZeros64(alo^blo))
}

func split4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

func split6(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// prefixSetBuilder collects prefixes in ascending order. Requiring order
// instead of sorting keeps peak memory at the final size, which matters
// when a database yields half a million networks.
type prefixSetBuilder struct {
	s prefixSet
}

// newPrefixSetBuilder returns a builder with room for n4 IPv4 and n6 IPv6
// prefixes; more may be added, at the cost of reallocation.
func newPrefixSetBuilder(n4, n6 int) *prefixSetBuilder {
	return &prefixSetBuilder{prefixSet{
		v4:    make([]uint32, 0, n4),
		v4val: make([]uint32, 0, n4),
		v6hi:  make([]uint64, 0, n6),
		v6lo:  make([]uint64, 0, n6),
		v6val: make([]uint32, 0, n6),
	}}
}

// add appends p, which must be masked, start after the end of the previous
// prefix of its family, and carry a value of at most maxSetValue.
func (b *prefixSetBuilder) add(p netip.Prefix, value uint32) error {
	if value > maxSetValue {
		return fmt.Errorf("prefix %s: value %d out of range", p, value)
	}
	s := &b.s
	plen := uint32(p.Bits())
	if p.Addr().Is4() {
		a := split4(p.Addr())
		if n := len(s.v4); n > 0 {
			prev, prevLen := s.v4[n-1], s.v4val[n-1]&0xff
			if a <= prev|lowMask32(prevLen) {
				return fmt.Errorf("prefix %s: out of order or overlapping", p)
			}
		}
		s.v4 = append(s.v4, a)
		s.v4val = append(s.v4val, value<<8|plen)
		return nil
	}
	hi, lo := split6(p.Addr())
	if n := len(s.v6hi); n > 0 {
		ehi, elo := s.v6hi[n-1], s.v6lo[n-1]
		prevLen := s.v6val[n-1] & 0xff
		if prevLen < 64 {
			ehi, elo = ehi|lowMask64(prevLen), ^uint64(0)
		} else {
			elo |= lowMask64(prevLen - 64)
		}
		if hi < ehi || (hi == ehi && lo <= elo) {
			return fmt.Errorf("prefix %s: out of order or overlapping", p)
		}
	}
	s.v6hi = append(s.v6hi, hi)
	s.v6lo = append(s.v6lo, lo)
	s.v6val = append(s.v6val, value<<8|plen)
	return nil
}

// lowMask32 has the host bits of an IPv4 prefix of length plen set.
func lowMask32(plen uint32) uint32 {
	if plen >= 32 {
		return 0
	}
	return ^uint32(0) >> plen
}

// lowMask64 has the low 64-plen bits set.
func lowMask64(plen uint32) uint64 {
	if plen >= 64 {
		return 0
	}
	return ^uint64(0) >> plen
}

// finish returns the set, trimmed to size and indexed when large.
func (b *prefixSetBuilder) finish() prefixSet {
	s := b.s
	b.s = prefixSet{}
	// Trim only when much was left unused: copying costs a second copy of
	// the set at the moment memory peaks.
	s.v4, s.v4val = trim(s.v4), trim(s.v4val)
	s.v6hi, s.v6lo, s.v6val = trim(s.v6hi), trim(s.v6lo), trim(s.v6val)
	if len(s.v4) >= indexMinLen {
		s.v4idx = buildIndex(len(s.v4), func(i int) uint32 { return s.v4[i] >> 16 })
	}
	if len(s.v6hi) >= indexMinLen {
		s.v6smp = make([]uint64, 0, len(s.v6hi)/sampleStride+1)
		for i := 0; i < len(s.v6hi); i += sampleStride {
			s.v6smp = append(s.v6smp, s.v6hi[i])
		}
	}
	return s
}

// trim returns s with its spare capacity given back when that is more
// than an eighth of it.
func trim[E any](s []E) []E {
	if cap(s)-len(s) > cap(s)/8 {
		return slices.Clone(s)
	}
	return slices.Clip(s)
}

// buildIndex returns idx with idx[k] = the first i whose top(i) >= k, for
// k in 0..65536, given top non-decreasing.
func buildIndex(n int, top func(i int) uint32) []uint32 {
	idx := make([]uint32, indexLen)
	i := 0
	for k := range idx {
		for i < n && top(i) < uint32(k) {
			i++
		}
		idx[k] = uint32(i)
	}
	return idx
}
