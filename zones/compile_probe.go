package zones

import "strings"

// probeRegions checks that every probe's regions are regions of the
// policy: a probe speaking for a misspelt region would speak for none,
// and its CDN would go unprobed without a word.
func (c *compiler) probeRegions(s *Snapshot) {
	known := make([]string, len(s.Regions))
	for i, r := range s.Regions {
		known[i] = r.Name
	}
	for _, cdn := range s.CDNs {
		if cdn.Probe == nil {
			continue
		}
		if bad := cdn.Probe.Regions.Unknown(known); len(bad) > 0 {
			c.el.Add("cdn."+cdn.Name+".probe.regions", "cdn %q: probe.regions: unknown region %s (regions: %s)",
				cdn.Name, strings.Join(bad, ", "), strings.Join(known, ", "))
		}
	}
}
