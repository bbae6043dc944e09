package zones

import (
	"encoding/hex"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/escalation"
	"github.com/cdnsteer/cdnsteer/health/probe"
	"github.com/cdnsteer/cdnsteer/health/prom"
	"github.com/cdnsteer/cdnsteer/rrl"
)

// Snapshot is a compiled policy. It is never modified after Parse returns,
// so the query path reads it from many goroutines without locks.
type Snapshot struct {
	File string
	Hash [32]byte // SHA-256 of the file's bytes, as sha256sum prints it
	// SteeringHash is the SHA-256 of the parts that decide answers, equal
	// on every instance of a fleet that steers alike (steering_hash.go).
	SteeringHash [32]byte

	Server   Server
	Geo      Geo
	CDNs     []CDN     // sorted by name; weight vectors are indexed alike
	Regions  []Region  // sorted by name; "default" always present
	Policies []*Policy // sorted by name
	Zones    []*Zone   // in file order
	Warnings []string
	// GeoTable maps client addresses to region indexes (Regions' order).
	GeoTable   *geo.Table
	Prometheus *prom.Config // nil: no Prometheus source
	RRL        *rrl.Config  // nil: no response rate limiting
	// Escalation is nil when the policy has no [escalation]: escalations
	// by hand are recorded and shown but sent nowhere.
	Escalation *escalation.Config
	// Fleet is nil when the instance stands alone.
	Fleet *Fleet
	// Steering is nil when no content steering listener is set; its
	// Pathways name the CDNs to players.
	Steering *Steering
	// QoE is set with Steering: how players' CMCD reports count.
	QoE *QoE
	// Dnstap is nil when queries are not logged.
	Dnstap *Dnstap
	// Plans and Schedules are [[plan]] and [[schedule]], in file order.
	Plans     []health.Plan
	Schedules []health.Schedule

	byOrigin map[string]*Zone
	// longestOrigin bounds the suffixes ZoneOf looks up.
	longestOrigin int
	// steered indexes every steered name (lower case, fully qualified)
	// for the query fast path: one map read answers "is this steered?".
	steered map[string]Steered
}

// Steered is a steered name with its zone and policy.
type Steered struct {
	Zone   *Zone
	Policy *Policy
}

// SteeredName looks a lower-case, fully qualified name up among the
// steered names. It takes bytes so that the query path need not build a
// string: the map index converts without allocating.
func (s *Snapshot) SteeredName(name []byte) (Steered, bool) {
	st, ok := s.steered[string(name)]
	return st, ok
}

// Server is the resolved [server] table.
type Server struct {
	DNS            []netip.AddrPort
	HTTP           string // empty: no HTTP endpoint
	AdminTokenFile string // absolute or relative to the working directory
	// HTTPOpenReads lets the API's reads through without a token: the
	// operator's choice on a loopback bind, or no token file at all.
	HTTPOpenReads bool
	// HTTPAllowedHosts are the names the Host header may carry; nil: the
	// admin package's default (bind address, loopback names, the
	// certificate's names).
	HTTPAllowedHosts []string
	// HTTPTLSCert and HTTPTLSKey serve the endpoint over HTTPS.
	HTTPTLSCert, HTTPTLSKey string
	DecisionLog             string
	// SignalLog.Path is empty when no signal log is kept.
	SignalLog    health.SignalLogConfig
	ChaosVersion string
	ChaosID      string
}

// Geo is the resolved [geo] table.
type Geo struct {
	Database string
	// ASNDatabase is the GeoLite2-ASN or GeoIP2-ISP file that "asn:N"
	// region codes are matched against; "" when none.
	ASNDatabase string
	ECS         bool
	Networks    []GeoNetwork
}

// GeoNetwork is one explicit CIDR → region override.
type GeoNetwork struct {
	Prefix netip.Prefix
	Region string
}

// CDN is one [cdn.NAME].
type CDN struct {
	Name       string
	Target     string // fully qualified, lower case
	CommitGbps float64
	// RegionCommitGbps is the commit of its PoPs by region, where the
	// policy gives one ([cdn.NAME.region.REGION] commit_gbps).
	RegionCommitGbps map[string]float64
	Probe            *probe.Config // nil: not probed
}

// Region is one entry of [regions].
type Region struct {
	Name  string
	Codes []string
}

// Policy is a compiled [policy.NAME].
type Policy struct {
	Name  string
	Index int
	TTL   uint32
	// TTLInFlux is ttl_in_flux: the TTL while a CDN of a region is
	// degraded or recovering; 0 keeps TTL.
	TTLInFlux uint32
	// Baseline holds one weight vector per region index (Snapshot.Regions);
	// regions without their own weights share the default region's vector.
	Baseline []*health.Weights
	// Defined tells which regions have weights of their own.
	Defined []bool
	// Targets holds, per CDN index, the CNAME target (fully qualified).
	Targets []string
	// Params are the policy's scoring and steering settings.
	Params health.Params
}

// DefaultRegion is the region every policy must define, used where no more
// specific region matches.
const DefaultRegion = "default"

// Zone is a compiled [[zone]].
type Zone struct {
	Origin  string // fully qualified, lower case
	Index   int
	SOA     *dns.SOA
	NS      []dns.RR
	Glue    []dns.RR // addresses of in-zone name servers
	Minimum uint32   // negative-answer TTL
	// NegSOA is the SOA for the authority section of negative answers,
	// with the TTL lowered to Minimum as RFC 2308 asks.
	NegSOA *dns.SOA
	// DNSSEC is the zone's keys; nil when the zone is not signed.
	DNSSEC *Signing
	nodes  map[string]*Node
}

// Node is a name that exists in a zone: it owns records, is steered, or is
// an empty non-terminal (a name with descendants but no records).
type Node struct {
	Name  string
	Sets  []RRSet // sorted by type
	Steer *Policy
	// Delegation marks a zone cut: NS records below the apex.
	Delegation bool
	// Glue is what goes in the additional section with this node's NS
	// (or, at the apex, MX) records.
	Glue []dns.RR
}

// RRSet is the records of one type at one name.
type RRSet struct {
	Type uint16
	RRs  []dns.RR
}

// Set returns the records of type t at n, or nil.
func (n *Node) Set(t uint16) []dns.RR {
	for i := range n.Sets {
		if n.Sets[i].Type == t {
			return n.Sets[i].RRs
		}
	}
	return nil
}

// FindZone returns the zone with the longest origin that contains name
// (lower case, fully qualified), or nil.
func (s *Snapshot) FindZone(name string) *Zone { return s.ZoneOf([]byte(name)) }

// Find looks name (lower case, fully qualified, inside z) up. It returns the
// zone cut above or at name when there is one (the answer is then a
// referral), else the node at name, or nil when the name does not exist.
func (z *Zone) Find(name string) (node, cut *Node) {
	for off, end := 0, false; !end; off, end = dns.NextLabel(name, off) {
		suffix := name[off:]
		if len(suffix) <= len(z.Origin) {
			break
		}
		if n := z.nodes[suffix]; n != nil && n.Delegation {
			cut = n
		}
	}
	if cut != nil {
		return nil, cut
	}
	return z.nodes[name], nil
}

// Apex is the node at the zone's origin.
func (z *Zone) Apex() *Node { return z.nodes[z.Origin] }

// Nodes returns every node of the zone, for tools that list it.
func (z *Zone) Nodes() []*Node {
	out := make([]*Node, 0, len(z.nodes))
	for _, n := range z.nodes {
		out = append(out, n)
	}
	return out
}

// PolicyByName returns the named policy, or nil.
func (s *Snapshot) PolicyByName(name string) *Policy {
	for _, p := range s.Policies {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// RegionIndex returns the index of the named region, or -1.
func (s *Snapshot) RegionIndex(name string) int {
	for i, r := range s.Regions {
		if r.Name == name {
			return i
		}
	}
	return -1
}

// HashHex is Hash in hexadecimal: the policy's identity in the logs, the
// API, check's summary and cdnsteer_policy_info, comparable across
// instances and with `sha256sum FILE`.
func (s *Snapshot) HashHex() string { return hex.EncodeToString(s.Hash[:]) }
