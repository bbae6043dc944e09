package steering

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// DefaultSessionSlots sizes the sessions sketch: 2^20 slots, 8 MiB,
// whatever the audience.
const DefaultSessionSlots = 1 << 20

// Sessions counts distinct session IDs per region and CDN in fixed
// memory, without locks: each sid hashes to one slot, which holds when
// it was last seen and where it was sent (the last writer wins a shared
// slot). Counting the fresh slots is linear counting (Whang et al.,
// 1990): with m slots and k taken, about -m·ln(1-k/m) sessions were
// seen, shared among regions and CDNs as their slots are. Its error stays
// within a few percent up to several times m sessions; slots that have not
// been seen for the window expire by themselves.
type Sessions struct {
	slots []atomic.Uint64
	mask  uint64
}

// NewSessions returns a sketch of n slots, n a power of two.
func NewSessions(n int) *Sessions {
	return &Sessions{slots: make([]atomic.Uint64, n), mask: uint64(n - 1)}
}

// A slot packs the time seen (unix seconds, 32 bits), region+1 (16 bits)
// and cdn+1 (16 bits); 0 is an empty slot.
func pack(seen int64, region, cdn int) uint64 {
	return uint64(uint32(seen))<<32 | uint64(uint16(region+1))<<16 | uint64(uint16(cdn+1))
}

// See records that session sid was sent to cdn in region at now.
func (s *Sessions) See(sid string, region, cdn int, now time.Time) {
	slot := &s.slots[health.SessionKey(sid)&s.mask]
	v := pack(now.Unix(), region, cdn)
	// Storing only when the slot changes keeps a session's cache line
	// shared between cores for the seconds it does not.
	if slot.Load() != v {
		slot.Store(v)
	}
}

// Estimate returns the sessions seen within window before now, indexed
// [region][cdn].
func (s *Sessions) Estimate(regions, cdns int, now time.Time, window time.Duration) [][]float64 {
	out := make([][]float64, regions)
	counts := make([][]float64, regions)
	for i := range out {
		out[i] = make([]float64, cdns)
		counts[i] = make([]float64, cdns)
	}
	since := uint32(now.Add(-window).Unix())
	var taken float64
	for i := range s.slots {
		v := s.slots[i].Load()
		if v == 0 || uint32(v>>32) < since {
			continue
		}
		taken++
		r, c := int(uint16(v>>16))-1, int(uint16(v))-1
		if r < regions && c < cdns {
			counts[r][c]++
		}
	}
	if taken == 0 {
		return out
	}
	m := float64(len(s.slots))
	total := m * math.Log(m/(m-taken))
	if taken >= m {
		total = m * math.Log(m) // every slot taken: the estimate's ceiling
	}
	for r := range counts {
		for c := range counts[r] {
			out[r][c] = total * counts[r][c] / taken
		}
	}
	return out
}
