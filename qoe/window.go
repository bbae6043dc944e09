package qoe

import (
	"math"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// A window slides: it is nSlots slots, each window/nSlots long, and a
// flush reads the slots of the last window, so the signals published
// every second cover the last 25 to 30 s (with the default window)
// rather than restarting from nothing every 30 s.
const nSlots = 6

// slot is what one CDN in one region reported during one slot. Its size
// is fixed: sessions are counted by sketch, values by sums.
type slot struct {
	epoch    int64 // slot number since the Unix epoch; 0: never used
	sessions hll   // every session that reported
	starved  hll   // the sessions whose buffer ran dry
	lines    uint32
	startup  mean
	tput     mean
	ttfb     mean
	segments uint32 // reports with a response code
	errors   uint32 // of which 4xx or 5xx
}

type mean struct {
	sum float64
	n   uint32
}

func (m *mean) add(v float64) { m.sum += v; m.n++ }

// cell is one CDN in one region.
type cell struct {
	slots [nSlots]slot
}

// at returns the slot for epoch, emptied if it held an older one.
func (c *cell) at(epoch int64) *slot {
	s := &c.slots[epoch%nSlots]
	if s.epoch != epoch {
		*s = slot{epoch: epoch}
	}
	return s
}

// add counts one report of the session whose hash is h.
func (s *slot) add(r *Report, h uint64) {
	s.lines++
	s.sessions.add(h)
	if r.Starved {
		s.starved.add(h)
	}
	if r.MSD >= 0 {
		s.startup.add(float64(r.MSD))
	}
	if r.MTP >= 0 {
		s.tput.add(float64(r.MTP))
	}
	if r.TTFB >= 0 && r.Video() {
		s.ttfb.add(float64(r.TTFB))
	}
	if r.RC >= 0 {
		s.segments++
		if r.RC >= 400 {
			s.errors++
		}
	}
}

// reading is a window's values of one cell, by kind, with the count
// behind each.
type reading struct {
	sessions float64
	lines    uint32
	values   health.Values
	samples  [health.NumKinds]int
}

// read merges the slots of the window ending with epoch.
func (c *cell) read(epoch int64, rd *reading) bool {
	var sessions, starved hll
	var startup, tput, ttfb mean
	var segments, errors, lines uint32
	for i := range c.slots {
		s := &c.slots[i]
		if s.epoch == 0 || s.epoch <= epoch-nSlots || s.epoch > epoch {
			continue
		}
		sessions.merge(&s.sessions)
		starved.merge(&s.starved)
		startup.sum, startup.n = startup.sum+s.startup.sum, startup.n+s.startup.n
		tput.sum, tput.n = tput.sum+s.tput.sum, tput.n+s.tput.n
		ttfb.sum, ttfb.n = ttfb.sum+s.ttfb.sum, ttfb.n+s.ttfb.n
		segments += s.segments
		errors += s.errors
		lines += s.lines
	}
	*rd = reading{lines: lines}
	if lines == 0 {
		return false
	}
	n := sessions.estimate()
	rd.sessions = n
	if n >= 0.5 {
		// Both sketches err alike; the share is capped at 1 where the
		// sketch of the few overshoots the sketch of all.
		rd.set(health.RebufferRatio, math.Min(1, starved.estimate()/n), int(math.Round(n)))
	}
	for _, m := range []struct {
		k health.Kind
		m mean
	}{{health.StartupMs, startup}, {health.VideoThroughput, tput}, {health.SegmentTTFB, ttfb}} {
		if m.m.n > 0 {
			rd.set(m.k, m.m.sum/float64(m.m.n), int(m.m.n))
		}
	}
	if segments > 0 {
		rd.set(health.SegmentErrorRate, float64(errors)/float64(segments), int(segments))
	}
	return true
}

func (rd *reading) set(k health.Kind, v float64, n int) {
	rd.values[k] = health.F(v)
	rd.samples[k] = max(n, 1)
}

// slotOf is the slot number of t for slots of length d.
func slotOf(t time.Time, d time.Duration) int64 { return t.UnixNano() / int64(d) }
