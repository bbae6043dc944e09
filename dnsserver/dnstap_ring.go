package dnsserver

import (
	"net/netip"
	"sync/atomic"
)

// tapRing carries sampled queries from the query path to the dnstap
// writer: a bounded queue of fixed slots (Vyukov's bounded MPMC queue,
// used with one consumer). A producer claims a slot with one
// compare-and-swap and never waits: when the writer has fallen behind the
// ring is full and the entry is dropped and counted, so a slow or gone
// reader costs log lines, never an answer. Nothing is allocated after
// newTapRing.
type tapRing struct {
	mask  uint64
	_     [56]byte // keep tail off head's cache line
	tail  atomic.Uint64
	_     [56]byte
	head  uint64 // the consumer's alone
	slots []tapSlot
}

// tapSlotBytes bounds a query and its reply together. UDP replies stop at
// 1232 bytes; a larger TCP reply is logged without its response.
const tapSlotBytes = 2048

// tapSlot is one sampled query. seq says whose turn it is: the producer
// of lap n writes a slot whose seq is its position and publishes it with
// position+1; the consumer hands it back for the next lap with
// position+len.
type tapSlot struct {
	seq    atomic.Uint64
	client netip.AddrPort
	server netip.AddrPort
	tcp    bool
	// when is the time of the query (unix nanoseconds).
	when       int64
	qlen, rlen uint16
	buf        [tapSlotBytes]byte
}

// newTapRing makes a ring of size slots, a power of two.
func newTapRing(size int) *tapRing {
	r := &tapRing{mask: uint64(size - 1), slots: make([]tapSlot, size)}
	for i := range r.slots {
		r.slots[i].seq.Store(uint64(i))
	}
	return r
}

// claim reserves the next free slot for writing, or returns nil when the
// ring is full. The caller fills it and calls publish.
func (r *tapRing) claim() (*tapSlot, uint64) {
	pos := r.tail.Load()
	for {
		s := &r.slots[pos&r.mask]
		seq := s.seq.Load()
		switch d := int64(seq - pos); {
		case d == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				return s, pos
			}
			pos = r.tail.Load()
		case d < 0:
			return nil, 0 // a lap ahead of the consumer: full
		default:
			pos = r.tail.Load() // another producer took it
		}
	}
}

// publish hands a filled slot to the consumer.
func (s *tapSlot) publish(pos uint64) { s.seq.Store(pos + 1) }

// next returns the oldest published slot, or nil when there is none. The
// consumer reads it and calls release before the next call.
func (r *tapRing) next() *tapSlot {
	s := &r.slots[r.head&r.mask]
	if s.seq.Load() != r.head+1 {
		return nil
	}
	return s
}

// release gives the slot next returned back to the producers.
func (r *tapRing) release(s *tapSlot) {
	s.seq.Store(r.head + r.mask + 1)
	r.head++
}
