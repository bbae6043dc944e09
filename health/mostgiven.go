package health

import (
	"math"
	"time"
)

// mostGiven keeps, per CDN, the most it was given of a region over the
// splits given within a window of the last one, and the one in force
// when the window began (excess.go reads it to learn gains). It keeps no
// split: each CDN has a queue of the shares that can still be the most
// given, decreasing from the front, and a share leaves the front once
// the split given after it has aged out of the window. Keeping the
// window's splits whole was 108 MB of a 1,000-name server's live heap
// and its rescans most of the capacity step's CPU (issue 22); a queue is
// a few entries, and a split costs O(1) per CDN, amortised.
type mostGiven struct {
	q [][]givenShare // per CDN
	// top is the answer for the first CDNs, kept with the region's
	// state: read for every CDN of every region at each evaluation, the
	// queues' fronts were a cache miss each (10 % of the engine's CPU).
	top [8]float64
}

// givenShare is one CDN's share in one split. 16 bytes: a thousand
// policies keep 120,000 queues of them.
type givenShare struct {
	// v is the share, or NaN for a NaN share, or missingShare for a
	// split that did not have the CDN (before a reload added it).
	v float64
	// next is when the split given after this one was (UnixNano;
	// math.MaxInt64 while this one is the last): the window needs this
	// split no more once that one is as old as the window.
	next int64
}

// missingShare is a NaN no share is stored as (a NaN share is kept as
// math.NaN()'s): a split that lacked the CDN makes its most given
// unknown, 1, as a NaN share makes it NaN, whatever else was given.
var missingShare = math.Float64frombits(0x7ff8_0000_0000_0bad)

// rank orders what is not a share above every share: a missing CDN,
// then NaN.
func (g givenShare) rank() int {
	switch {
	case math.Float64bits(g.v) == math.Float64bits(missingShare):
		return 2
	case math.IsNaN(g.v):
		return 1
	}
	return 0
}

// atLeast reports whether a ranks at or above b.
func (a givenShare) atLeast(b givenShare) bool {
	ra, rb := a.rank(), b.rank()
	if ra != rb {
		return ra > rb
	}
	return ra != 0 || a.v >= b.v
}

// noteGiven adds share, given at now, and lets go of what the window of
// settle no longer needs.
func (cs *capacityState) noteGiven(share []float64, now time.Time, settle time.Duration) {
	m := &cs.given
	at := now.UnixNano()
	for c := range m.q {
		// The last split's entry is every queue's last: it ends now.
		if n := len(m.q[c]); n > 0 {
			m.q[c][n-1].next = at
		}
	}
	if len(share) > len(m.q) {
		old := len(m.q)
		m.q = append(m.q, make([][]givenShare, len(share)-old)...)
		if old > 0 {
			// The splits before did not have these CDNs.
			for c := old; c < len(share); c++ {
				m.q[c] = append(m.q[c], givenShare{v: missingShare, next: at})
			}
		}
	}
	for c := range m.q {
		e := givenShare{v: missingShare, next: math.MaxInt64}
		if c < len(share) {
			e.v = share[c]
			if math.IsNaN(e.v) {
				e.v = math.NaN() // never missingShare's bits
			}
		}
		q := m.q[c]
		for len(q) > 0 && e.atLeast(q[len(q)-1]) {
			q = q[:len(q)-1]
		}
		q = append(q, e)
		for len(q) > 1 && at-q[0].next >= int64(settle) {
			q = append(q[:0], q[1:]...)
		}
		m.q[c] = q
		if c < len(m.top) {
			m.top[c] = front(q)
		}
	}
}

// mostGiven is the most CDN c was given of the region over the window;
// 1 when unknown (nothing then counts as excess).
func (cs *capacityState) mostGiven(c int) float64 {
	m := &cs.given
	switch {
	case c >= len(m.q):
		return 1
	case c < len(m.top):
		return m.top[c]
	}
	return front(m.q[c])
}

// front is the most given of a queue.
func front(q []givenShare) float64 {
	if len(q) == 0 {
		return 1
	}
	switch front := q[0]; front.rank() {
	case 2:
		return 1
	case 1:
		return math.NaN()
	default:
		return math.Max(0, front.v)
	}
}
