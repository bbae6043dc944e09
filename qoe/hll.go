package qoe

import (
	"math"
	"math/bits"
)

// A window counts distinct sessions, not reports: five players each
// sending a hundred reports are five viewers, and confidence must count
// them so. A HyperLogLog sketch (Flajolet et al., 2007) does it in a
// fixed 512 bytes however many sessions report: each session's hash
// picks a register and leaves there the longest run of leading zeros
// seen; the registers' harmonic mean estimates the count within about
// 1.04/√512 ≈ 4.6 %, and small counts (where most registers are still
// empty) are counted exactly enough by the empty registers (linear
// counting). Sketches of several slots merge by taking each register's
// maximum.

const (
	hllBits = 9
	hllSize = 1 << hllBits
)

type hll [hllSize]uint8

// add records the session whose 64-bit hash is h.
func (s *hll) add(h uint64) {
	i := h >> (64 - hllBits)
	rank := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1))) + 1
	if rank > s[i] {
		s[i] = rank
	}
}

// merge takes o's registers into s.
func (s *hll) merge(o *hll) {
	for i := range s {
		s[i] = max(s[i], o[i])
	}
}

// estimate is the number of distinct sessions added.
func (s *hll) estimate() float64 {
	var sum float64
	zeros := 0
	for _, r := range s {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	const m = float64(hllSize)
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		return m * math.Log(m/float64(zeros))
	}
	return e
}

// mix is splitmix64's finaliser: it spreads a hash's bits so that the
// sample, the sketch and the per-session cap, each reading other bits of
// one session hash, stay independent of one another.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// hashBytes is 64-bit FNV-1a of b.
func hashBytes(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
