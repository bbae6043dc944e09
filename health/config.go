package health

import (
	"slices"
	"time"
)

// Config is what the engine needs of a compiled policy. Indexes match the
// policy snapshot's (CDNs, regions and policies in the same order), so the
// Table the engine publishes can be read by index on the query path.
type Config struct {
	CDNs     []CDNInfo
	Regions  []string
	Policies []PolicyInfo
	// Plans are the fallbacks decided before the event; Schedules the
	// windows known in advance (plan.go, schedule.go).
	Plans     []Plan
	Schedules []Schedule
	// RegionCommitGbps is the commit of a CDN's PoPs in a region where
	// it has one of its own, by CDN name, then region name.
	RegionCommitGbps map[string]map[string]float64
}

// CDNInfo is one CDN as the engine sees it.
type CDNInfo struct {
	Name string
	// CommitGbps is the contracted commit; 0 means unknown (no capacity
	// limit is applied).
	CommitGbps float64
}

// PolicyInfo is one steering policy.
type PolicyInfo struct {
	Name   string
	Params Params
	// TTL is the policy's answer TTL: resolvers keep an answer this long,
	// so a change of weight reaches all of its traffic over about a TTL.
	TTL time.Duration
	// TTLInFlux is the TTL while a CDN of the region is degraded or
	// recovering, so that resolvers follow the moving split sooner; 0
	// keeps TTL.
	TTLInFlux time.Duration
	// Baseline holds the contract split per region index, one weight per
	// CDN index. Regions without weights of their own carry the default
	// region's.
	Baseline [][]float64
}

// CDNIndex is the position of the named CDN, -1 if there is none.
func (c *Config) CDNIndex(name string) int {
	for i, cdn := range c.CDNs {
		if cdn.Name == name {
			return i
		}
	}
	return -1
}

// RegionIndex is the position of the named region, -1 if there is none.
func (c *Config) RegionIndex(name string) int { return slices.Index(c.Regions, name) }

// PolicyIndex is the position of the named policy, -1 if there is none.
func (c *Config) PolicyIndex(name string) int {
	for i, p := range c.Policies {
		if p.Name == name {
			return i
		}
	}
	return -1
}

func (c *Config) cdnNames() []string {
	out := make([]string, len(c.CDNs))
	for i, cdn := range c.CDNs {
		out[i] = cdn.Name
	}
	return out
}

// EvalInterval is how often a server running c evaluates: at the shortest
// interval of its policies, so that none is evaluated late.
func (c *Config) EvalInterval() time.Duration {
	d := DefaultParams().EvalInterval
	for i, p := range c.Policies {
		if i == 0 || p.Params.EvalInterval < d {
			d = p.Params.EvalInterval
		}
	}
	return d
}
