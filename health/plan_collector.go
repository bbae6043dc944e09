package health

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Plan and schedule metrics, exported with the engine's: whether each
// plan is in force, whether each schedule's window is, and the steered
// TTL each region answers with now (ttl_in_flux and windows change it):
// the shortest of the policies', per region like the engine's series.
var (
	planActiveDesc = prometheus.NewDesc("cdnsteer_plan_active", "1 while some activation of the plan is in force.", []string{"plan"}, nil)
	scheduleDesc   = prometheus.NewDesc("cdnsteer_schedule_in_force", "1 while the schedule's window is in force.", []string{"schedule"}, nil)
	steeredTTLDesc = prometheus.NewDesc("cdnsteer_steered_ttl_seconds", "TTL of the region's steered answers now (the shortest of the policies').", []string{"region"}, nil)
)

func describePlans(ch chan<- *prometheus.Desc) {
	ch <- planActiveDesc
	ch <- scheduleDesc
	ch <- steeredTTLDesc
}

func (c *Collector) collectPlans(ch chan<- prometheus.Metric, regions []*regionSum, now time.Time) {
	gauge := func(d *prometheus.Desc, val float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, val, labels...)
	}
	for _, p := range c.e.Plans(now) {
		gauge(planActiveDesc, b2f(p.Active), p.Name)
	}
	for _, s := range c.e.Schedules(now) {
		gauge(scheduleDesc, b2f(s.State == "in_force"), s.Name)
	}
	for _, r := range regions {
		gauge(steeredTTLDesc, float64(r.ttl), r.name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
