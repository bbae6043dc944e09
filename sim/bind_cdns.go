package sim

// cdns reads each CDN's capacity, in all and per region, and layers its
// load curves.
func (b *binder) cdns(f *scenarioFile) {
	cfg := b.sc.Policy.Config
	for name := range f.CDN {
		if cfg.CDNIndex(name) < 0 {
			b.p.Add("cdn."+name, "cdn %q is not in the policy file", name)
		}
	}
	global := b.quality(DefaultQuality(), &f.Quality, "quality")
	for _, info := range cfg.CDNs {
		c := CDN{Name: info.Name, CommitGbps: info.CommitGbps}
		cf := f.CDN[info.Name]
		at := "cdn." + info.Name
		b.setF(&c.CommitGbps, cf.CommitGbps, at+".commit_gbps", 0, 1e9)
		c.CeilingGbps = c.CommitGbps * DefaultCeilingFactor
		b.setF(&c.CeilingGbps, cf.CeilingGbps, at+".ceiling_gbps", 0, 1e9)
		if c.CeilingGbps > 0 && c.CeilingGbps < c.CommitGbps {
			b.p.Add(at+".ceiling_gbps", "cdn %q: ceiling_gbps %g is below its commit %g", info.Name, c.CeilingGbps, c.CommitGbps)
		}
		q := b.quality(global, &cf.Quality, at+".quality")
		for name := range cf.Region {
			if cfg.RegionIndex(name) < 0 {
				b.p.Add(at+".region."+name, "region %q is not in policy %q", name, b.sc.Policy.Name)
			}
		}
		for _, region := range cfg.Regions {
			rf := cf.Region[region]
			rat := at + ".region." + region
			cr := CDNRegion{}
			b.setF(&cr.CommitGbps, rf.CommitGbps, rat+".commit_gbps", 0, 1e9)
			cr.CeilingGbps = cr.CommitGbps * DefaultCeilingFactor
			b.setF(&cr.CeilingGbps, rf.CeilingGbps, rat+".ceiling_gbps", 0, 1e9)
			if rf.CeilingGbps != nil && cr.CommitGbps == 0 {
				b.p.Add(rat+".ceiling_gbps", "a regional ceiling needs a regional commit_gbps")
			}
			if cr.CeilingGbps > 0 && cr.CeilingGbps < cr.CommitGbps {
				b.p.Add(rat+".ceiling_gbps", "cdn %q region %q: ceiling_gbps %g is below its commit %g", info.Name, region, cr.CeilingGbps, cr.CommitGbps)
			}
			cr.Quality = b.quality(q, &rf.Quality, rat+".quality")
			c.Regions = append(c.Regions, cr)
		}
		c.Billing = b.billing(cf.Billing, at, info.Name, c.CommitGbps)
		b.sc.CDNs = append(b.sc.CDNs, c)
	}
}
