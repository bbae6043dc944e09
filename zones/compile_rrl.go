package zones

import (
	"net/netip"
	"time"
)

// RRL is the resolved [rrl] table; nil when rate limiting is off. Zero
// rates follow ResponsesPerSecond.
type RRL struct {
	ResponsesPerSecond int
	NXDomainsPerSecond int
	ErrorsPerSecond    int
	Window             time.Duration
	Slip               int
	IPv4Prefix         int
	IPv6Prefix         int
	Exempt             []netip.Prefix
	LogOnly            bool
	TableSize          int
}

// Defaults of [rrl], as in BIND.
const (
	DefaultRRLRate      = 20
	DefaultRRLWindow    = 15 * time.Second
	DefaultRRLSlip      = 2
	DefaultRRLIPv4      = 24
	DefaultRRLIPv6      = 56
	DefaultRRLTableSize = 65536
)

func (c *compiler) rrl(rc *RRLConfig) *RRL {
	if rc == nil || !rc.Enabled {
		return nil
	}
	r := &RRL{ResponsesPerSecond: DefaultRRLRate, Window: DefaultRRLWindow, Slip: DefaultRRLSlip,
		IPv4Prefix: DefaultRRLIPv4, IPv6Prefix: DefaultRRLIPv6, LogOnly: rc.LogOnly, TableSize: DefaultRRLTableSize}
	intKey := func(key string, v *int, dst *int, lo, hi int) {
		if v == nil {
			return
		}
		if *v < lo || *v > hi {
			c.el.Add("rrl."+key, "rrl.%s: %d is outside %d..%d", key, *v, lo, hi)
			return
		}
		*dst = *v
	}
	intKey("responses_per_second", rc.ResponsesPerSecond, &r.ResponsesPerSecond, 1, 100000)
	intKey("nxdomains_per_second", rc.NXDomainsPerSecond, &r.NXDomainsPerSecond, 1, 100000)
	intKey("errors_per_second", rc.ErrorsPerSecond, &r.ErrorsPerSecond, 1, 100000)
	intKey("slip", rc.Slip, &r.Slip, 0, 10)
	intKey("ipv4_prefix", rc.IPv4Prefix, &r.IPv4Prefix, 1, 32)
	intKey("ipv6_prefix", rc.IPv6Prefix, &r.IPv6Prefix, 1, 128)
	intKey("table_size", rc.TableSize, &r.TableSize, 8, 1<<24)
	if rc.Window != nil {
		if *rc.Window < time.Second || *rc.Window > time.Hour {
			c.el.Add("rrl.window", "rrl.window: %s is outside 1s..1h", *rc.Window)
		} else {
			r.Window = *rc.Window
		}
	}
	for _, e := range rc.Exempt {
		p, err := netip.ParsePrefix(e)
		if err != nil || p.Masked() != p {
			c.el.Add("rrl.exempt", "rrl.exempt: %q is not a CIDR prefix without host bits", e)
			continue
		}
		r.Exempt = append(r.Exempt, p)
	}
	return r
}
