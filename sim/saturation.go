package sim

// Saturation is where a CDN fills its commit under the policy as written:
// the baseline split of every region, weighted by the region mix and each
// region's bitrate. A CDN's demand grows linearly with the audience,
//
//	demand_c(A) = A × Σ_r mix_r × base_rc / Σ_c' base_rc' × bitrate_r / 1000   (Gbit/s)
//
// so it reaches commit_c at A = commit_c / (demand_c(A) / A). The engine
// starts shedding at capacity_soft of the commit it knows (the policy's),
// at proportionally fewer viewers.
type Saturation struct {
	// GbpsPerViewer is the CDN's demand per viewer of the whole audience
	// (or, for a region, per viewer of the whole audience too).
	GbpsPerViewer float64
	// Share is the CDN's part of the traffic it is measured against.
	Share float64
	// Audience is the audience at which demand reaches the commit; 0
	// when it never does (no commit, or no share).
	Audience float64
	// Shedding is the audience at which the engine starts taking new
	// traffic away; 0 when the policy gives no commit.
	Shedding float64
}

// baselineShare is CDN ci's share of region ri's traffic in the baseline.
func (sc *Scenario) baselineShare(ri, ci int) float64 {
	base := sc.Policy.Config.Policies[sc.Policy.Index].Baseline[ri]
	total := 0.0
	for _, w := range base {
		total += w
	}
	if total == 0 {
		return 0
	}
	return base[ci] / total
}

// CDNSaturation is the saturation point of CDN ci against its whole
// commit.
func (sc *Scenario) CDNSaturation(ci int) Saturation {
	var s Saturation
	all := 0.0
	for ri, r := range sc.Regions {
		s.GbpsPerViewer += r.Share * sc.baselineShare(ri, ci) * r.BitrateMbps / 1000
		all += r.Share * r.BitrateMbps / 1000
	}
	if all > 0 {
		s.Share = s.GbpsPerViewer / all
	}
	if s.GbpsPerViewer > 0 {
		if commit := sc.CDNs[ci].CommitGbps; commit > 0 {
			s.Audience = commit / s.GbpsPerViewer
		}
		if known := sc.Policy.Config.CDNs[ci].CommitGbps; known > 0 {
			s.Shedding = sc.Policy.Params.CapacitySoft * known / s.GbpsPerViewer
		}
	}
	return s
}

// RegionalSaturation is the saturation point of CDN ci against its
// commit in region ri (0 when it has none there).
func (sc *Scenario) RegionalSaturation(ri, ci int) Saturation {
	r := sc.Regions[ri]
	s := Saturation{Share: sc.baselineShare(ri, ci)}
	s.GbpsPerViewer = r.Share * s.Share * r.BitrateMbps / 1000
	if commit := sc.CDNs[ci].Regions[ri].CommitGbps; commit > 0 && s.GbpsPerViewer > 0 {
		s.Audience = commit / s.GbpsPerViewer
	}
	return s
}
