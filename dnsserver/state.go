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
	// subnets folds Snap.GeoTable and DB into one lookup by /24; rebuilt
	// when either changes.
	subnets *geo.SubnetMap
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
// length over which that answer holds (for the ECS scope).
func (s *State) region(addr netip.Addr, m *Metrics) (region int, bits uint8) {
	region, source, ok := s.subnets.Lookup24(addr)
	bits = 24
	if !ok {
		res := s.Snap.GeoTable.Lookup(s.DB, addr)
		region, source, bits = res.Region, res.Source, res.Bits
	}
	m.geo[source].Inc()
	if region < 0 {
		return s.defaultRegion, bits
	}
	return region, bits
}
