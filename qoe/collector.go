package qoe

import (
	"slices"
	"sync"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Config is the compiled [qoe] section.
type Config struct {
	// Sample is the share of sessions (by a hash of their sid) whose
	// reports count; the others are told to stop (410).
	Sample float64
	// Window is how far back a published value looks.
	Window time.Duration
}

// linesPerSecond caps what one session's reports count for per window
// (4 a second of the window): a player reports a few times per segment,
// and a session, real or forged, flooding reports must not outweigh the
// other viewers of its region in a mean or a share. What is past the cap
// is counted and dropped.
const linesPerSecond = 4

// capSlots sizes the per-session cap's table: 2^20 counters of 2 bytes,
// shared by hash, so a crowd of sessions shares slots (each slot then
// holds several sessions' lines, under a cap several times one player's)
// but memory stays at 2 MiB whatever the audience.
const capSlots = 1 << 20

// Topology is what the collector attributes reports to: the policy's
// CDNs and regions (in the snapshot's order), each CDN's pathway ID and
// the hosts its media is served from (lower case, no final dot).
type Topology struct {
	CDNs     []string
	Regions  []string
	Pathways []string
	Hosts    map[string]int
}

func (t *Topology) equal(o *Topology) bool {
	if !slices.Equal(t.CDNs, o.CDNs) || !slices.Equal(t.Regions, o.Regions) || !slices.Equal(t.Pathways, o.Pathways) || len(t.Hosts) != len(o.Hosts) {
		return false
	}
	for h, i := range t.Hosts {
		if j, ok := o.Hosts[h]; !ok || i != j {
			return false
		}
	}
	return true
}

// Collector aggregates reports per CDN and region and turns each window
// into signals. Memory is fixed by the topology: a cell per CDN and
// region, six slots each, two 512-byte sketches a slot, and the
// per-session cap's table.
type Collector struct {
	mu      sync.Mutex
	cfg     Config
	topo    Topology
	byName  map[string]int // CDN name or pathway ID → CDN index
	cells   []*cell        // [cdn*len(regions)+region], allocated on first report
	capped  []uint16
	capFrom int64 // the cap's window number
	metrics *Metrics
	last    []reading // the last flush's readings, for the gauges
}

// NewCollector returns a collector counting into m (nil: no metrics).
// Until its caller hands it a Config and a topology with Configure, it
// counts nothing: the defaults are the policy's (package zones), not
// the collector's.
func NewCollector(m *Metrics) *Collector {
	c := &Collector{metrics: m, capped: make([]uint16, capSlots)}
	if m != nil {
		m.c = c
	}
	return c
}

// Configure sets the configuration and the topology; the windows start
// afresh when either changed (a reload that changes neither keeps them).
func (c *Collector) Configure(cfg Config, topo Topology) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg == c.cfg && topo.equal(&c.topo) && c.cells != nil {
		return
	}
	c.cfg, c.topo = cfg, topo
	c.byName = map[string]int{}
	for i, name := range topo.CDNs {
		c.byName[name] = i
	}
	for i, p := range topo.Pathways {
		if _, taken := c.byName[p]; !taken {
			c.byName[p] = i
		}
	}
	c.cells = make([]*cell, len(topo.CDNs)*len(topo.Regions))
	c.last = make([]reading, len(c.cells))
	clear(c.capped)
	if c.metrics != nil {
		c.metrics.resolve(&c.topo)
	}
}

// Session is the hash a report's session goes by: its sid, else the
// client's address (kept for nothing else).
func Session(sid, addr []byte) uint64 {
	if len(sid) > 0 {
		return hashBytes(sid)
	}
	return hashBytes(addr) ^ 0x9e3779b97f4a7c15
}

// Sampled reports whether the session is within [qoe] sample.
func (c *Collector) Sampled(session uint64) bool {
	c.mu.Lock()
	s := c.cfg.Sample
	c.mu.Unlock()
	return sampled(session, s)
}

func sampled(session uint64, share float64) bool {
	if share >= 1 {
		return true
	}
	return float64(mix(session^0x5851f42d4c957f2d)>>11) < share*(1<<53)
}

// Outcome is what became of a report.
type Outcome int

const (
	Counted    Outcome = iota
	UnknownCDN         // no CDN of the policy could be told from it
	Capped             // its session is past its share of the window
	SampledOut         // its session is outside [qoe] sample
)

// Add aggregates one report of the session with hash session, from a
// client in region (an index of the topology's regions). pathway is the
// CDN index the request named as its current pathway, or -1.
func (c *Collector) Add(r *Report, session uint64, region, pathway int, now time.Time) Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !sampled(session, c.cfg.Sample) {
		c.metrics.sampledOut()
		return SampledOut
	}
	nr := len(c.topo.Regions)
	if region < 0 || region >= nr {
		region = 0
	}
	cdn := c.attribute(r, pathway)
	if cdn < 0 {
		c.metrics.unknownCDN(region)
		return UnknownCDN
	}
	if !c.admit(session, now) {
		c.metrics.capped(cdn, region)
		return Capped
	}
	i := cdn*nr + region
	ce := c.cells[i]
	if ce == nil {
		ce = &cell{}
		c.cells[i] = ce
	}
	ce.at(slotOf(now, c.cfg.Window/nSlots)).add(r, mix(session))
	c.metrics.counted(cdn, region, r.Dropped)
	return Counted
}

// admit counts a line against its session's cap for the window.
func (c *Collector) admit(session uint64, now time.Time) bool {
	if w := slotOf(now, c.cfg.Window); w != c.capFrom {
		clear(c.capped)
		c.capFrom = w
	}
	slot := &c.capped[mix(session^0x2545f4914f6cdd1d)&(capSlots-1)]
	limit := uint16(min(linesPerSecond*c.cfg.Window.Seconds(), 60000))
	if *slot >= limit {
		return false
	}
	*slot++
	return true
}

// attribute is the CDN a report is about: the one its cdn key names (by
// name or pathway ID), else the one serving its url's host (or a parent
// domain of it), else the pathway the request named; -1 if none.
func (c *Collector) attribute(r *Report, pathway int) int {
	if len(r.CDN) > 0 {
		if i, ok := c.byName[string(r.CDN)]; ok {
			return i
		}
	}
	if i := c.byHost(r.URL); i >= 0 {
		return i
	}
	if pathway >= 0 && pathway < len(c.topo.CDNs) {
		return pathway
	}
	return -1
}

// byHost looks the host of an absolute URL up, then each parent domain.
func (c *Collector) byHost(url []byte) int {
	if len(c.topo.Hosts) == 0 {
		return -1
	}
	rest := url
	for i := 0; i+2 < len(url); i++ {
		if url[i] == ':' && url[i+1] == '/' && url[i+2] == '/' {
			rest = url[i+3:]
			break
		}
		if url[i] == '/' {
			return -1 // a relative URL names no host
		}
	}
	if len(rest) == len(url) {
		return -1
	}
	var buf [256]byte
	n := 0
	for _, ch := range rest {
		if ch == '/' || ch == ':' || ch == '?' || ch == '#' {
			break
		}
		if ch == '@' { // user info: the host follows
			n = 0
			continue
		}
		if n == len(buf) {
			return -1
		}
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[n] = ch
		n++
	}
	host := buf[:n]
	for len(host) > 0 {
		if i, ok := c.topo.Hosts[string(host)]; ok {
			return i
		}
		dot := -1
		for j, ch := range host {
			if ch == '.' {
				dot = j
				break
			}
		}
		if dot < 0 {
			break
		}
		host = host[dot+1:]
	}
	return -1
}

// Flush returns a signal per kind measured, per CDN and region with
// reports in the window ending at now, each with its own count: sessions
// for the rebuffering share, reports for the others.
func (c *Collector) Flush(now time.Time) []health.Signal {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cells) == 0 {
		return nil
	}
	epoch := slotOf(now, c.cfg.Window/nSlots)
	nr := len(c.topo.Regions)
	var out []health.Signal
	for i, ce := range c.cells {
		rd := &c.last[i]
		if ce == nil || !ce.read(epoch, rd) {
			*rd = reading{}
			continue
		}
		for k := range health.NumKinds {
			if rd.values[k] == nil {
				continue
			}
			var v health.Values
			v[k] = rd.values[k]
			out = append(out, health.Signal{CDN: c.topo.CDNs[i/nr], Region: c.topo.Regions[i%nr], Time: now,
				Samples: rd.samples[k], Values: v, Source: health.SourceCMCD})
		}
	}
	return out
}
