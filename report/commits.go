package report

import "github.com/cdnsteer/cdnsteer/zones"

// CommitsOf are the policy's commits by place: each CDN's commit_gbps in
// all regions, and its regional commits.
func CommitsOf(snap *zones.Snapshot) map[Place]float64 {
	out := map[Place]float64{}
	for _, c := range snap.CDNs {
		if c.CommitGbps > 0 {
			out[Place{CDN: c.Name}] = c.CommitGbps
		}
		for r, v := range c.RegionCommitGbps {
			out[Place{Region: r, CDN: c.Name}] = v
		}
	}
	return out
}
