package zones

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/probe"
)

// Defaults of keys the operator may leave out. README.md documents them;
// keep the two in step.
const (
	DefaultDNS       = "127.0.0.1:1053"
	DefaultHTTP      = "127.0.0.1:8053"
	DefaultPolicyTTL = 20
	DefaultRecordTTL = 3600
	DefaultSerial    = 1
	DefaultRefresh   = 14400
	DefaultRetry     = 3600
	DefaultExpire    = 1209600
	DefaultMinimum   = 300
)

var identifier = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// compiler turns a decoded File into a Snapshot, recording every problem
// rather than stopping at the first.
type compiler struct {
	el  *ErrorList
	dir string
	// where maps "owner" and "owner/TYPE" to the key path of the first
	// record or steer that defined them, so that errors found across
	// records point at a line.
	where map[string]string
	// implicitDefault is set when [regions] has no "default" of its own.
	implicitDefault bool
}

// at returns the key path of the record of type typ (or, with "", of any
// record) at owner, falling back to fallback.
func (c *compiler) at(owner, typ, fallback string) string {
	if p, ok := c.where[owner+"/"+typ]; ok && typ != "" {
		return p
	}
	if p, ok := c.where[owner]; ok {
		return p
	}
	return fallback
}

func (c *compiler) compile(f *File) *Snapshot {
	s := &Snapshot{byOrigin: map[string]*Zone{}}
	s.Server = c.server(&f.Server)
	s.Warnings = append(s.Warnings, httpWarnings(s.Server)...)
	s.CDNs = c.cdns(f.CDN)
	s.Regions = c.regions(f.Regions)
	c.probeRegions(s)
	c.regionCommits(f.CDN, s)
	s.Geo = c.geo(&f.Geo, s.Regions)
	s.GeoTable = c.geoTable(s)
	s.Prometheus = c.prometheus(f.Prometheus)
	s.RRL = c.rrl(f.RRL)
	s.Escalation = c.escalation(f.Escalation)
	s.Fleet = c.fleet(f.Fleet)
	c.steering(f, s)
	c.qoe(f, s)
	s.Dnstap = c.dnstap(f.Dnstap)
	s.Policies = c.policies(f.Policy, s)
	c.zones(f.Zone, s)
	c.plans(f, s)
	s.steered = map[string]Steered{}
	for _, z := range s.Zones {
		for name, n := range z.nodes {
			if n.Steer != nil {
				s.steered[name] = Steered{Zone: z, Policy: n.Steer}
			}
		}
	}
	c.checkTargets(s)
	used := map[string]bool{}
	for _, z := range s.Zones {
		for _, n := range z.nodes {
			if n.Steer != nil {
				used[n.Steer.Name] = true
			}
		}
	}
	for _, p := range s.Policies {
		if !used[p.Name] {
			s.Warnings = append(s.Warnings, fmt.Sprintf("policy %q is not used by any [[zone.steer]]", p.Name))
		}
	}
	return s
}

func (c *compiler) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

func (c *compiler) server(sc *ServerConfig) Server {
	var s Server
	addrs := sc.DNS
	if addrs == nil {
		addrs = []string{DefaultDNS}
	}
	if len(addrs) == 0 {
		c.el.Add("server.dns", "server.dns: at least one address is needed")
	}
	seen := map[netip.AddrPort]bool{}
	for _, a := range addrs {
		ap, err := netip.ParseAddrPort(a)
		switch {
		case err != nil:
			c.el.Add("server.dns", "server.dns: %q is not an IP:port address (IPv6 as [::1]:53)", a)
			continue
		case ap.Addr().IsUnspecified():
			c.el.Add("server.dns", "server.dns: %q: bind each service address explicitly (replies must leave from the address that was asked)", a)
			continue
		case seen[ap]:
			c.el.Add("server.dns", "server.dns: %q is listed twice", a)
			continue
		}
		seen[ap] = true
		s.DNS = append(s.DNS, ap)
	}
	s.HTTP = DefaultHTTP
	if sc.HTTP != nil {
		s.HTTP = *sc.HTTP
		if s.HTTP != "" {
			if _, err := netip.ParseAddrPort(s.HTTP); err != nil {
				c.el.Add("server.http", "server.http: %q is not an IP:port address (empty disables HTTP)", s.HTTP)
			}
		}
	}
	s.AdminTokenFile = c.path(sc.AdminTokenFile)
	c.httpDoor(sc, &s)
	s.DecisionLog = c.path(sc.DecisionLog)
	s.SignalLog = c.signalLog(sc)
	for key, v := range map[string]string{"chaos_version": sc.ChaosVersion, "chaos_id": sc.ChaosID} {
		if len(v) > 255 || strings.ContainsAny(v, "\n\r") {
			c.el.Add("server."+key, "server.%s: at most 255 characters on one line", key)
		}
	}
	s.ChaosVersion, s.ChaosID = sc.ChaosVersion, sc.ChaosID
	return s
}

// Bounds of [server] signal_log_max_mb and signal_log_keep: past them a
// value is a slip (a size in bytes, say) rather than a plan.
const (
	maxSignalLogMB   = 1 << 20
	maxSignalLogKeep = 1000
)

// signalLog resolves the signal log's keys; their defaults are health's.
func (c *compiler) signalLog(sc *ServerConfig) health.SignalLogConfig {
	mb, keep := int64(health.DefaultSignalLogMaxMB), health.DefaultSignalLogKeep
	if sc.SignalLogMaxMB != nil {
		if mb = *sc.SignalLogMaxMB; mb < 1 || mb > maxSignalLogMB {
			c.el.Add("server.signal_log_max_mb", "server.signal_log_max_mb: %d is outside 1..%d (megabytes per file)", mb, maxSignalLogMB)
		}
	}
	if sc.SignalLogKeep != nil {
		if keep = *sc.SignalLogKeep; keep < 0 || keep > maxSignalLogKeep {
			c.el.Add("server.signal_log_keep", "server.signal_log_keep: %d is outside 0..%d (rotated files)", keep, maxSignalLogKeep)
		}
	}
	return health.SignalLogConfig{Path: c.path(sc.SignalLog), MaxBytes: mb << 20, Keep: keep}
}

func (c *compiler) cdns(m map[string]CDNConfig) []CDN {
	names := sortedKeys(m)
	out := make([]CDN, 0, len(names))
	for _, name := range names {
		cc := m[name]
		at := "cdn." + name
		if !identifier.MatchString(name) {
			c.el.Add(at, "cdn %q: name must be lower-case letters, digits, '-' or '_'", name)
		}
		cdn := CDN{Name: name}
		if cc.Target == "" {
			c.el.Add(at, "cdn %q: target is missing", name)
		} else if t, err := canonicalName(cc.Target); err != nil {
			c.badName(at+".target", fmt.Sprintf("cdn %q: target", name), cc.Target, err)
		} else {
			cdn.Target = t
		}
		if cc.CommitGbps != nil {
			if v := *cc.CommitGbps; v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
				c.el.Add(at+".commit_gbps", "cdn %q: commit_gbps must be a positive number", name)
			} else {
				cdn.CommitGbps = v
			}
		}
		if cc.Probe != nil {
			cdn.Probe = c.probe(at+".probe", name, cc.Probe)
		}
		out = append(out, cdn)
	}
	return out
}

// probe is a CDN's [cdn.NAME.probe] with its defaults filled in. The
// probe's package declares the keys, their defaults and their bounds.
func (c *compiler) probe(at, cdn string, pc *probe.Config) *probe.Config {
	p := *pc
	p.CDN = cdn
	c.keyErrors(at, fmt.Sprintf("cdn %q: ", cdn), "probe.", p.Validate())
	p = p.WithDefaults()
	return &p
}

func (c *compiler) regions(m map[string][]string) []Region {
	if _, ok := m[DefaultRegion]; !ok {
		if m == nil {
			m = map[string][]string{}
		} else {
			m = copyMap(m)
		}
		// Without an explicit default region, "default" is what nothing
		// else matches: the catch-all, unless another region claims "*"
		// (then lookups that match nothing fall through to it anyway).
		star := false
		for _, codes := range m {
			for _, code := range codes {
				star = star || code == "*"
			}
		}
		m[DefaultRegion] = nil
		if !star {
			m[DefaultRegion] = []string{"*"}
		}
		c.implicitDefault = true
	}
	names := sortedKeys(m)
	out := make([]Region, 0, len(names))
	for _, name := range names {
		if !identifier.MatchString(name) {
			c.el.Add("regions."+name, "region %q: name must be lower-case letters, digits, '-' or '_'", name)
		}
		out = append(out, Region{Name: name, Codes: m[name]})
	}
	return out
}

func (c *compiler) geo(gc *GeoConfig, regions []Region) Geo {
	g := Geo{Database: c.path(gc.Database), ASNDatabase: c.path(gc.ASNDatabase), ECS: true}
	if gc.ECS != nil {
		g.ECS = *gc.ECS
	}
	for i, n := range gc.Network {
		at := fmt.Sprintf("geo.network[%d]", i)
		p, err := netip.ParsePrefix(n.CIDR)
		if err != nil {
			c.el.Add(at+".cidr", "geo.network: %q is not a CIDR prefix", n.CIDR)
			continue
		}
		if p.Masked() != p {
			c.el.Add(at+".cidr", "geo.network: %q has host bits set; did you mean %q?", n.CIDR, p.Masked().String())
			continue
		}
		if !hasRegion(regions, n.Region) {
			c.el.Add(at+".region", "geo.network %s: region %q is not defined in [regions]", n.CIDR, n.Region)
			continue
		}
		g.Networks = append(g.Networks, GeoNetwork{Prefix: p, Region: n.Region})
	}
	return g
}

func (c *compiler) policies(m map[string]PolicyConfig, s *Snapshot) []*Policy {
	names := sortedKeys(m)
	cdnNames := make([]string, len(s.CDNs))
	targets := make([]string, len(s.CDNs))
	for i, cdn := range s.CDNs {
		cdnNames[i], targets[i] = cdn.Name, cdn.Target
	}
	var out []*Policy
	for _, name := range names {
		pc := m[name]
		at := "policy." + name
		if !identifier.MatchString(name) {
			c.el.Add(at, "policy %q: name must be lower-case letters, digits, '-' or '_'", name)
		}
		p := &Policy{Name: name, Index: len(out), TTL: DefaultPolicyTTL, Targets: targets,
			Baseline: make([]*health.Weights, len(s.Regions)), Defined: make([]bool, len(s.Regions))}
		p.Params = c.params(at, name, &pc)
		if pc.TTL != nil {
			if t := *pc.TTL; t < 0 || t > 86400 {
				c.el.Add(at+".ttl", "policy %q: ttl %d is outside 0..86400", name, t)
			} else {
				p.TTL = uint32(t)
			}
		}
		c.ttlInFlux(at, name, p, pc.TTLInFlux)
		for _, rname := range sortedKeys(pc.Region) {
			rat := at + ".region." + rname
			ri := s.RegionIndex(rname)
			if ri < 0 {
				c.el.Add(rat, "policy %q: region %q is not defined in [regions]", name, rname)
				continue
			}
			w := make([]float64, len(s.CDNs))
			total, ok := 0.0, true
			for _, cdn := range sortedKeys(pc.Region[rname].Weights) {
				v := pc.Region[rname].Weights[cdn]
				ci := cdnIndex(s.CDNs, cdn)
				switch {
				case ci < 0:
					c.el.Add(rat+".weights", "policy %q region %q: weight for unknown cdn %q (defined: %s)", name, rname, cdn, strings.Join(cdnNames, ", "))
					ok = false
				case v < 0 || math.IsNaN(v) || math.IsInf(v, 0):
					c.el.Add(rat+".weights", "policy %q region %q: weight of %q must be a number >= 0", name, rname, cdn)
					ok = false
				default:
					w[ci] = v
					total += v
				}
			}
			if ok && total <= 0 {
				c.el.Add(rat, "policy %q region %q: weights are missing or all zero", name, rname)
				ok = false
			}
			if ok {
				p.Baseline[ri] = health.NewWeights(cdnNames, w)
				p.Defined[ri] = true
			}
		}
		def := s.RegionIndex(DefaultRegion)
		if !p.Defined[def] {
			if _, given := pc.Region[DefaultRegion]; !given {
				c.el.Add(at, "policy %q: [policy.%s.region.default] weights are required (they serve every region without its own)", name, name)
			}
		} else {
			for i := range p.Baseline {
				if p.Baseline[i] == nil {
					p.Baseline[i] = p.Baseline[def]
				}
			}
		}
		out = append(out, p)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func copyMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func hasRegion(rs []Region, name string) bool {
	for _, r := range rs {
		if r.Name == name {
			return true
		}
	}
	return false
}

func cdnIndex(cdns []CDN, name string) int {
	for i, c := range cdns {
		if c.Name == name {
			return i
		}
	}
	return -1
}
