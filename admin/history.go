package admin

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Defaults of the history behind the live view's charts: half an hour at
// one sample a second, 1800 samples.
const (
	DefaultHistoryWindow   = 30 * time.Minute
	DefaultHistoryInterval = time.Second
)

// Value slots of a point: score, weight and share, then one per signal
// kind, in the kinds table's order.
const (
	vScore = iota
	vWeight
	vShare
	vSignals
	nValues = vSignals + int(health.NumKinds)
)

// History keeps the recent past of the engine's view for the live view's
// charts: every CDN's score, status, live weight, share and signals, one
// sample per interval, for a bounded window. It lives in memory only: the
// decision log is the record; this is what a screen needs to draw the last
// half hour without replaying it.
//
// A point costs about 60 bytes, so a policy with 5 regions and 5 CDNs
// keeps about 2.7 MB for the default window. The whole ring holds at most
// maxPoints points: with more series than fit the window at the
// interval, samples are taken further apart (every = window × points ÷
// maxPoints), so that a thousand policies of 20 regions and 6 CDNs —
// 120,000 points a sample — cost about 60 MB and one view of the engine
// every 3.6 minutes, rather than 13 GB and one a second.
type History struct {
	window, interval time.Duration
	maxPoints        int
	// every is the time between samples now, from the last one's size.
	every time.Duration

	mu      sync.Mutex
	ring    []sample // capacity window/interval+1, oldest at head
	head, n int
	keys    []seriesKey // interned series names; points refer to them by index
	keyIdx  map[seriesKey]int32
	status  []health.Status // interned statuses; 0 means none
}

// seriesKey names a series: a CDN in a policy and region, or the region
// itself when cdn is "".
type seriesKey struct{ policy, region, cdn string }

type sample struct {
	t       time.Time
	points  []point
	regions []regionPoint
}

type point struct {
	key    int32
	status uint8
	v      [nValues]float32 // NaN: not measured
}

type regionPoint struct {
	key               int32
	failedOpen, stale bool
}

// NewHistory returns a history of the given window, sampled every
// interval (both must be positive; the defaults replace what is not).
func NewHistory(window, interval time.Duration) *History {
	if window <= 0 {
		window = DefaultHistoryWindow
	}
	if interval <= 0 {
		interval = DefaultHistoryInterval
	}
	size := int(window/interval) + 1
	return &History{window: window, interval: interval, maxPoints: defaultMaxPoints, every: interval, ring: make([]sample, size),
		keyIdx: map[seriesKey]int32{}, status: []health.Status{""}}
}

// defaultMaxPoints bounds the points the history keeps: about 60 MB.
const defaultMaxPoints = 1_000_000

// spacing is the time between samples of n points each that keeps the
// window within maxPoints: the interval, or a whole number of them. A
// window holds window/spacing + 1 samples.
func (h *History) spacing(n int) time.Duration {
	room := int64(h.maxPoints - n)
	if room <= 0 {
		return h.window + h.interval // one sample at a time
	}
	k := (int64(h.window)*int64(n) + room*int64(h.interval) - 1) / (room * int64(h.interval))
	return time.Duration(max(k, 1)) * h.interval
}

// due reports whether a sample taken at now would be kept: the last one
// is at least every old.
func (h *History) due(now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n == 0 || now.Round(0).Truncate(time.Millisecond).Sub(h.at(h.n-1).t) >= h.every
}

// Record adds a sample of v at v.Time, kept to the millisecond. A view
// not newer than the last sample is dropped: the since cursor of GET
// /api/v1/history relies on times that only grow.
func (h *History) Record(v health.View) bool {
	t := v.Time.Round(0).Truncate(time.Millisecond)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n > 0 && !t.After(h.at(h.n-1).t) {
		return false
	}
	if h.n > 0 && t.Sub(h.at(h.n-1).t) < h.every {
		return false
	}
	s := sample{t: t}
	for _, p := range v.Policies {
		for _, r := range p.Regions {
			s.regions = append(s.regions, regionPoint{key: h.intern(seriesKey{p.Name, r.Name, ""}), failedOpen: r.FailedOpen, stale: r.Stale})
			for _, c := range r.CDNs {
				pt := point{key: h.intern(seriesKey{p.Name, r.Name, c.Name}), status: h.internStatus(c.Status)}
				x := [nValues]*float64{vScore: c.Score, vWeight: &c.Weight, vShare: &c.Share}
				for k, v := range c.Signals.Values {
					x[vSignals+k] = v
				}
				for i, x := range x {
					pt.v[i] = float32(math.NaN())
					if x != nil {
						pt.v[i] = float32(*x)
					}
				}
				s.points = append(s.points, pt)
			}
		}
	}
	if h.n < len(h.ring) {
		h.n++
	} else {
		h.head = (h.head + 1) % len(h.ring)
	}
	*h.at(h.n - 1) = s
	// Samples past the window go now, not when the ring wraps: spaced
	// out, the ring would otherwise hold more than the budget.
	for h.n > 1 && t.Sub(h.at(0).t) > h.window {
		*h.at(0) = sample{}
		h.head = (h.head + 1) % len(h.ring)
		h.n--
	}
	h.every = h.spacing(len(s.points))
	return true
}

// at returns the i-th sample, oldest first.
func (h *History) at(i int) *sample { return &h.ring[(h.head+i)%len(h.ring)] }

func (h *History) intern(k seriesKey) int32 {
	if i, ok := h.keyIdx[k]; ok {
		return i
	}
	i := int32(len(h.keys))
	h.keys = append(h.keys, k)
	h.keyIdx[k] = i
	return i
}

func (h *History) internStatus(s health.Status) uint8 {
	for i, x := range h.status {
		if x == s {
			return uint8(i)
		}
	}
	if len(h.status) == math.MaxUint8 {
		return 0 // hundreds of statuses cannot happen; drop rather than wrap
	}
	h.status = append(h.status, s)
	return uint8(len(h.status) - 1)
}

// run samples e's view every interval until ctx ends, starting at once so
// that a page opened right after start has something to draw.
func (h *History) run(ctx context.Context, e *health.Engine, now func() time.Time) {
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	for {
		if h.due(now()) {
			h.Record(e.View(now()))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
