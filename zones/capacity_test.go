package zones

import (
	"strings"
	"testing"
)

// TestRegionalCommitAndControllerKeys: [cdn.NAME.region.REGION]
// commit_gbps reaches the engine by CDN and region, the controller's keys
// default to health's and are bounded; bad values are errors at their
// lines.
func TestRegionalCommitAndControllerKeys(t *testing.T) {
	regions := "[regions]\nkr = [\"KR\"]\n"
	s, err := Parse("p.toml", []byte(regions+base+"[cdn.a.region.kr]\ncommit_gbps = 1600\n[policy.p]\ncapacity_dead_band = 0.1\nfollow_share = 0.3\n"+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Health()
	if got := cfg.RegionCommitGbps["a"]["kr"]; got != 1600 || len(cfg.RegionCommitGbps) != 1 {
		t.Errorf("regional commits %v", cfg.RegionCommitGbps)
	}
	if p := cfg.Policies[0].Params; p.CapacityDeadBand != 0.1 || p.FollowShare != 0.3 || p.CapacityMaxMove != 0.25 {
		t.Errorf("params: dead band %v, follow %v, max move %v", p.CapacityDeadBand, p.FollowShare, p.CapacityMaxMove)
	}
	cases := []struct{ name, doc, want string }{
		{"unknown region", "[cdn.a.region.jp]\ncommit_gbps = 10\n", `bad.toml:9: cdn "a": region "jp" is not one of [regions]`},
		{"negative commit", "[cdn.a.region.kr]\ncommit_gbps = -1\n", `bad.toml:10: cdn "a": region "kr": commit_gbps must be a positive number`},
		{"no commit", "[cdn.a.region.kr]\n", `bad.toml:9: cdn "a": region "kr" needs commit_gbps`},
		{"follow share", "[policy.p]\nfollow_share = 0\n", `bad.toml:10: policy "p": follow_share: 0 is outside (0, 1]`},
		{"max move", "[policy.p]\ncapacity_max_move = 2\n", `bad.toml:10: policy "p": capacity_max_move: 2 is outside (0, 1]`},
		{"dead band", "[policy.p]\ncapacity_dead_band = 0.9\n", `bad.toml:10: policy "p": capacity_dead_band: 0.9 is outside 0 up to capacity_soft (0.85)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(regions+base+tc.doc+zoneHead))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
}
