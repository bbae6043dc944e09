package rrl

import (
	"math"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// The table: a fixed array of 64-bit words, one bucket each, in groups
// of eight that share a cache line. A key hashes to one group and lives
// in any of its eight slots; a new key takes the slot whose bucket is
// closest to fresh (empty, idle, or least in debt), so a flood of new
// keys evicts the keys that matter least and a limited key, deep in
// debt, is the last to go. An evicted key starts afresh: the table is
// lossy under pressure, like Knot's, and never grows.
//
// A word packs the bucket's tag, slip count and virtual clock:
//
//	63           46 45  42 41                        0
//	[ tag: 18 bits ][slip ][ virtual clock: 42 bits µs ]
//
// The tag is 18 bits of the key's hash that the group index does not
// use; tag 0 is never used, so a zero word is an empty slot. Two keys
// that agree on group and tag share a bucket: a chance of one in 2^18
// for each pair of keys in a group at once, which costs at worst the
// rarer key some answers. The clock
// is microseconds modulo 2^42 (about 51 days); debts are read as the
// signed difference from now, so the wrap does no harm unless a key
// comes back after exactly a multiple of 51 days, give or take the
// window, and then it is at worst limited for the window. Metrics
// scrapes clear idle words, which closes even that gap.

const (
	slotsPerGroup = 8 // 8 words: one 64-byte cache line
	clockBits     = 42
	slipBits      = 4 // MaxSlip must fit
	tagShift      = clockBits + slipBits
	clockMask     = 1<<clockBits - 1
	slipMask      = 1<<slipBits - 1
	tagMask       = 1<<(64-tagShift) - 1
)

type table struct {
	slots  []atomic.Uint64
	groups uint64
}

// newTable makes a table of at most size slots (rounded down to whole
// groups), aligned so that no group straddles two cache lines.
func newTable(size int) *table {
	groups := size / slotsPerGroup
	raw := make([]atomic.Uint64, groups*slotsPerGroup+slotsPerGroup-1)
	skip := 0
	for uintptr(unsafe.Pointer(&raw[skip]))%(slotsPerGroup*8) != 0 {
		skip++
	}
	return &table{slots: raw[skip : skip+groups*slotsPerGroup], groups: uint64(groups)}
}

// debt reads a word's debt at now: the signed distance of its virtual
// clock ahead of now, wrapped to the clock's width.
func debt(w, now uint64) int64 {
	return int64((w-now)<<(64-clockBits)) >> (64 - clockBits)
}

func pack(tag uint64, d int64, n, now uint64) uint64 {
	return tag<<tagShift | n<<clockBits | (now+uint64(d))&clockMask
}

// account charges one response to the bucket of key h at now (µs).
func (t *table) account(r *rules, h uint64, cl Class, now uint64) Action {
	g, _ := bits.Mul64(h, t.groups) // the high bits pick the group …
	tag := h & tagMask              // … the low bits tell keys apart in it
	if tag == 0 {
		tag = 1
	}
	grp := (*[slotsPerGroup]atomic.Uint64)(t.slots[g*slotsPerGroup:])
	for {
		i, w, found := scan(grp, tag, now, r.window)
		d, n := int64(math.MinInt64), uint64(0) // a new key: fresh
		if found {
			d, n = debt(w, now), w>>clockBits&slipMask
		}
		d, n, act := r.charge(d, n, cl)
		// Lost a race with another response for this group: look again,
		// since the other may just have created this very key.
		if grp[i].CompareAndSwap(w, pack(tag, d, n, now)) {
			return act
		}
	}
}

// scan finds the key's slot in its group or, failing that, the slot to
// evict for it, and the word it holds.
func scan(grp *[slotsPerGroup]atomic.Uint64, tag, now uint64, window int64) (slot int, word uint64, found bool) {
	best := int64(math.MaxInt64)
	for i := range grp {
		w := grp[i].Load()
		if w>>tagShift == tag {
			return i, w, true
		}
		if s := evictScore(w, now, window); s < best {
			slot, word, best = i, w, s
		}
	}
	return slot, word, false
}

// evictScore ranks a word for eviction, lowest first: how far it is from
// a fresh bucket, which is its debt, or the least possible when the word
// is empty or stale.
func evictScore(w, now uint64, window int64) int64 {
	if w == 0 {
		return math.MinInt64
	}
	d := debt(w, now)
	if fresh(d, window) {
		return math.MinInt64
	}
	return d
}

// live counts the slots whose buckets are not yet back to fresh, and
// clears the others, which are worth no more than empty slots. Runs at
// scrape time, not on the query path.
func (t *table) live(now uint64, window int64) int {
	n := 0
	for i := range t.slots {
		w := t.slots[i].Load()
		if w == 0 {
			continue
		}
		if evictScore(w, now, window) == math.MinInt64 {
			// A query that raced us keeps its word; the next one would
			// treat a cleared word as fresh just the same.
			t.slots[i].CompareAndSwap(w, 0)
			continue
		}
		n++
	}
	return n
}
