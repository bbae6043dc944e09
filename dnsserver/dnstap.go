package dnsserver

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// dnstap: what one resolver was actually sent, in the DNS ecosystem's
// query-log format. The query path does the least it can: with no
// [dnstap] it loads one pointer (Handler.tap) and goes on; with one it
// draws a random number (math/rand/v2's, per thread, no shared state)
// and stops there for the queries outside the sample. A sampled query takes a token
// of the rate bound (one compare-and-swap) and a slot of the ring (one
// more), copies the query and reply into it and goes on: the encoding and
// every write happen in the writer's goroutine (dnstap_writer.go), and
// whatever cannot be kept — over the rate, ring full, no reader — is
// counted and dropped, never waited for.

// Tap is one [dnstap] destination in force: its sample, rate bound and
// ring, and the goroutine writing them out.
type Tap struct {
	cfg zones.Dnstap
	// threshold: a query is sampled when its random draw is below it; all
	// is set when every query is (sample = 1).
	threshold uint64
	all       bool
	// interval is the time one message uses of the rate bound, burst how
	// far ahead of the clock the bound may run (GCRA: tat is the
	// theoretical arrival time of the next message, unix nanoseconds).
	interval, burst int64
	tat             atomic.Int64

	ring *tapRing
	m    *TapMetrics
	w    *tapWriter
}

// tapRingSize is the ring's slots: 2 MiB, a few seconds of the default
// rate, far more than the writer's polling interval lets gather.
const tapRingSize = 1024

// tapBurst is how much of a second's rate may be taken at once.
const tapBurst = 0.1

func newTap(cfg zones.Dnstap, m *TapMetrics) *Tap {
	t := &Tap{cfg: cfg, ring: newTapRing(tapRingSize), m: m}
	if cfg.Sample >= 1 {
		t.all = true
	} else {
		t.threshold = uint64(cfg.Sample * math.MaxUint64)
	}
	t.interval = int64(time.Second) / int64(cfg.Rate)
	t.burst = max(t.interval, int64(float64(time.Second)*tapBurst))
	return t
}

// record logs a query and its reply (nil when it got none) if the query
// is sampled and the rate bound allows it. client sent the query to
// server over TCP or UDP. It never blocks and allocates nothing.
func (t *Tap) record(query, reply []byte, client, server netip.AddrPort, tcp bool) {
	if !t.all && rand.Uint64() >= t.threshold {
		return
	}
	if len(query) > tapSlotBytes {
		t.m.tooBig.Inc() // before the rate bound: it takes no token
		return
	}
	now := time.Now().UnixNano()
	if !t.admit(now) {
		t.m.rate.Inc()
		return
	}
	if len(query)+len(reply) > tapSlotBytes {
		// Logged as a query alone, and the missing reply counted.
		t.m.tooBig.Inc()
		reply = nil
	}
	s, pos := t.ring.claim()
	if s == nil {
		t.m.full.Inc()
		return
	}
	s.client, s.server, s.tcp, s.when = client, server, tcp, now
	s.qlen, s.rlen = uint16(len(query)), uint16(len(reply))
	copy(s.buf[:], query)
	copy(s.buf[len(query):], reply)
	s.publish(pos)
}

// admit takes one message from the rate bound (GCRA), or reports that
// the bound is reached.
func (t *Tap) admit(now int64) bool {
	for {
		tat := t.tat.Load()
		next := max(tat, now) + t.interval
		if next-now > t.burst {
			return false
		}
		if t.tat.CompareAndSwap(tat, next) {
			return true
		}
	}
}

// SetTap makes t (nil: none) log the queries answered from now on.
func (h *Handler) SetTap(t *Tap) { h.tap.Store(t) }

// tapped is the query path's hook: one atomic load when nothing is
// logged.
func (h *Handler) tapped(query, reply []byte, client, server netip.AddrPort, tcp bool) {
	if t := h.tap.Load(); t != nil {
		t.record(query, reply, client, server, tcp)
	}
}
