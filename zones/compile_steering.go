package zones

import (
	"net/netip"
	"regexp"
)

// SteeringConfig is the [steering] table: the HLS/DASH content steering
// listener for players (package steering).
type SteeringConfig struct {
	Listen         string   `toml:"listen"`
	TLSCert        string   `toml:"tls_cert"`
	TLSKey         string   `toml:"tls_key"`
	TTL            *int64   `toml:"ttl"`
	TrustedProxies []string `toml:"trusted_proxies"`
}

// Steering is the resolved [steering] table; nil when no listener is set.
type Steering struct {
	Listen  string
	TLSCert string // with TLSKey: serve HTTPS; both empty: HTTP
	TLSKey  string
	TTL     uint32
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Pathways holds each CDN's pathway ID, indexed like Snapshot.CDNs.
	Pathways []string
	// byPathway maps a pathway ID back to its CDN index.
	byPathway map[string]int
}

// PathwayIndex returns the CDN index of a pathway ID, or -1.
func (s *Steering) PathwayIndex(id string) int {
	if i, ok := s.byPathway[id]; ok {
		return i
	}
	return -1
}

// DefaultSteeringTTL is [steering] ttl's default, in seconds.
const DefaultSteeringTTL = 30

// maxSteeringTTL keeps a manifest from pinning players for longer than
// the DNS answers could (a day).
const maxSteeringTTL = 86400

// pathwayID is what the HLS spec allows in a PATHWAY-ID: characters from
// [a-z], [A-Z], [0-9], '.', '-' and '_'.
var pathwayID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func (c *compiler) steering(f *File, s *Snapshot) {
	sc := f.Steering
	pathways := make([]string, len(s.CDNs))
	byPathway := make(map[string]int, len(s.CDNs))
	for i, cdn := range s.CDNs {
		p := f.CDN[cdn.Name].Pathway
		if p == "" {
			p = cdn.Name
		}
		at := "cdn." + cdn.Name + ".pathway"
		if !pathwayID.MatchString(p) {
			c.el.Add(at, "cdn %q: pathway %q: letters, digits, '.', '-' and '_' only (at most 64)", cdn.Name, p)
		}
		if j, dup := byPathway[p]; dup {
			c.el.Add(at, "cdn %q: pathway %q is cdn %q's too: each CDN needs its own", cdn.Name, p, s.CDNs[j].Name)
		}
		pathways[i] = p
		byPathway[p] = i
	}
	if sc == nil || sc.Listen == "" {
		if sc != nil && (sc.TLSCert != "" || sc.TLSKey != "" || sc.TTL != nil || sc.TrustedProxies != nil) {
			c.el.Add("steering", "steering: listen is needed (listen = \"127.0.0.1:8054\")")
		}
		return
	}
	st := &Steering{Listen: sc.Listen, TLSCert: c.path(sc.TLSCert), TLSKey: c.path(sc.TLSKey), TTL: DefaultSteeringTTL, Pathways: pathways, byPathway: byPathway}
	if ap, err := netip.ParseAddrPort(sc.Listen); err != nil {
		c.el.Add("steering.listen", "steering.listen: %q is not an IP:port address", sc.Listen)
	} else if s.Server.HTTP == ap.String() {
		c.el.Add("steering.listen", "steering.listen: %q is server.http's too: players get their own listener", sc.Listen)
	}
	if (sc.TLSCert == "") != (sc.TLSKey == "") {
		c.el.Add("steering", "steering: tls_cert and tls_key go together (both for HTTPS, neither for HTTP)")
	}
	if sc.TTL != nil {
		if v := *sc.TTL; v < 1 || v > maxSteeringTTL {
			c.el.Add("steering.ttl", "steering.ttl: %d: between 1 and %d seconds", v, maxSteeringTTL)
		} else {
			st.TTL = uint32(v)
		}
	}
	for _, p := range sc.TrustedProxies {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			if a, aerr := netip.ParseAddr(p); aerr == nil {
				pf, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			c.el.Add("steering.trusted_proxies", "steering.trusted_proxies: %q is not a CIDR prefix (127.0.0.1/32) or address", p)
			continue
		}
		st.TrustedProxies = append(st.TrustedProxies, pf.Masked())
	}
	s.Steering = st
}
