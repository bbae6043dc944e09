package main

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

// infoCollector exports what runs: cdnsteer_build_info (the binary) and
// cdnsteer_policy_info (the policy in force, read at each scrape, so that
// a reload shows at once and the previous hash leaves no series behind).
// Both are 1; their labels are the information.
type infoCollector struct {
	policy      func() *zones.Snapshot
	build, pol  *prometheus.Desc
	buildLabels []string
}

func newInfoCollector(policy func() *zones.Snapshot) *infoCollector {
	commit, modified := revision()
	if modified {
		commit += "-modified"
	}
	return &infoCollector{
		policy: policy,
		build: prometheus.NewDesc("cdnsteer_build_info",
			"The binary running: version (-ldflags -X main.Version), VCS revision, Go version. Always 1.",
			[]string{"version", "revision", "go_version"}, nil),
		pol: prometheus.NewDesc("cdnsteer_policy_info",
			"The policy in force: SHA-256 of its file (as sha256sum prints it), the file, and steering_hash: the SHA-256 of the parts that decide answers (regions, CDNs, policies, [geo] networks, plans, schedules), equal on instances that steer alike although their files differ in [server] or [fleet]. Always 1.",
			[]string{"hash", "file", "steering_hash"}, nil),
		buildLabels: []string{Version, commit, runtime.Version()},
	}
}

func (c *infoCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.build
	ch <- c.pol
}

func (c *infoCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.build, prometheus.GaugeValue, 1, c.buildLabels...)
	if s := c.policy(); s != nil {
		ch <- prometheus.MustNewConstMetric(c.pol, prometheus.GaugeValue, 1, s.HashHex(), s.File, s.SteeringHashHex())
	}
}
