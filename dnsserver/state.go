package dnsserver

import (
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// State is everything a query needs, immutable once stored. One goroutine
// builds a new State (reload, new live weights) and swaps it in; a query
// does one atomic load and reads it without locks.
type State struct {
	Snap *zones.Snapshot
	// Live holds the health engine's weights; nil means baseline weights.
	Live *health.Table

	defaultRegion int
	counters      *counters
}

// weights returns the split in force for a policy and region.
func (s *State) weights(p *zones.Policy, region int) *health.Weights {
	if w := s.Live.Get(p.Index, region); w != nil {
		return w
	}
	return p.Baseline[region]
}
