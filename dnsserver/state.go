package dnsserver

import (
	"net/netip"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/rrl"
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
	// ASN is the ASN database; nil means no "asn:" region can match.
	ASN *geo.ASNDB

	// RRL limits UDP replies per client network; nil when off.
	RRL *rrl.Limiter

	defaultRegion int
	counters      *counters
	// templates are the fast path's answers packed for Snap; rebuilt with
	// each new snapshot.
	templates *templates
	// subnets folds Snap.GeoTable, DB and ASN into one lookup by /24
	// (IPv4) or /56 (IPv6); rebuilt when any of them changes.
	subnets *geo.SubnetMap
	// asnRegions is ASN narrowed to the ASes Snap.GeoTable lists; rebuilt
	// with subnets.
	asnRegions *geo.ASNRegions
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

// choice is how a steered answer is made for one query.
type choice struct {
	// subject is the address whose region and subnet decide: the client
	// subnet when the query has one (and geo.ecs is on), else the
	// resolver's address.
	subject netip.Addr
	byECS   bool
	region  int
	source  geo.Source
	// scope is the ECS SCOPE PREFIX-LENGTH of the reply: 0 unless byECS.
	scope uint8
	// cdn indexes the snapshot's CDNs; -1 when no CDN has weight.
	cdn     int
	weights *health.Weights
	// ttl is the answer's TTL: the policy's, or the one the engine set
	// for the region (ttl_in_flux, a schedule) along with its weights.
	ttl uint32
}

// choose picks the CDN of policy p for a query from client carrying e,
// into c (filled in place: it is on the query path). It counts nothing:
// the caller counts the region lookup once it answers.
func (s *State) choose(c *choice, p *zones.Policy, client netip.Addr, e *ecs) {
	c.subject, c.byECS, c.scope = client, false, 0
	if e.present && s.Snap.Geo.ECS && e.source > 0 {
		c.subject, c.byECS = e.addr, true
	}
	var bits uint8
	c.region, c.source, bits = s.region(c.subject)
	if c.byECS {
		c.scope = ecsScope(bits, c.subject)
	}
	c.weights = s.weights(p, c.region)
	c.ttl = p.TTL
	if t := c.weights.TTL; t != 0 {
		c.ttl = t
	}
	c.cdn = c.weights.Pick(health.SubnetKey(c.subject))
}

// region finds the region of a client address, what decided it, and the
// prefix length over which that answer holds (for the ECS scope).
func (s *State) region(addr netip.Addr) (region int, source geo.Source, bits uint8) {
	res := geo.LookupClient(s.subnets, s.Snap.GeoTable, s.DB, s.asnRegions, addr)
	region, source, bits = res.Region, res.Source, res.Bits
	if region < 0 {
		region = s.defaultRegion
	}
	return region, source, bits
}

// Subnets returns what region lookups beside DNS (content steering, the
// players' reports) need to find a client's region as DNS does, with
// geo.LookupClient: the lookup by client subnet and the ASN regions,
// both built for this state's snapshot and databases.
func (s *State) Subnets() (*geo.SubnetMap, *geo.ASNRegions) { return s.subnets, s.asnRegions }
