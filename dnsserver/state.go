package dnsserver

import (
	"net/netip"

	"github.com/cdnsteer/cdnsteer/dnsserver/rrl"
	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// State is everything a query needs, immutable once stored. Writers (a
// reload, new live weights, a new GeoIP database) build a new State and
// swap it in; a query does one atomic load and reads it without locks.
type State struct {
	Snap *zones.Snapshot
	// Live holds the health engine's weights; nil means baseline weights.
	Live *health.Table
	// DB is the GeoIP database; nil means overrides and "*" only.
	DB *geo.DB

	// RRL limits UDP replies per client network; nil when off.
	RRL *rrl.Limiter

	defaultRegion int
	counters      *counters
}

// weights returns the split in force for a policy and region. Live weights
// built for another snapshot (a reload racing a publication) are not
// trusted: their CDN list may differ.
func (s *State) weights(p *zones.Policy, region int) *health.Weights {
	if w := s.Live.Get(p.Index, region); w != nil && len(w.W) == len(p.Targets) {
		return w
	}
	return p.Baseline[region]
}

// region finds the region of a client address: its index, and the prefix
// length of the network that decided it.
func (s *State) region(addr netip.Addr, m *Metrics) (int, geo.Result) {
	res := s.Snap.GeoTable.Lookup(s.DB, addr)
	m.geo[res.Source].Inc()
	if res.Region < 0 {
		return s.defaultRegion, res
	}
	return res.Region, res
}
