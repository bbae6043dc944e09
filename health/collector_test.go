package health

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollector(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	at := run(e, t0, 10, allGood)
	run(e, at, 5, fastlyBadFrom(at))
	e.AddOverride(Override{Action: ActionDrain, CDN: "edgio", Reason: "test", Expires: time.Now().Add(time.Hour)}, time.Now())
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e))
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	n, err := testutil.GatherAndCount(reg, "cdnsteer_cdn_status")
	if err != nil || n != 4*2*4 {
		t.Errorf("status series = %d, %v; want 4 CDNs x 2 regions x 4 statuses", n, err)
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP cdnsteer_overrides_active Operator overrides in force, by action.
# TYPE cdnsteer_overrides_active gauge
cdnsteer_overrides_active{action="drain"} 1
cdnsteer_overrides_active{action="freeze"} 0
cdnsteer_overrides_active{action="pin"} 0
`), "cdnsteer_overrides_active")
	if err != nil {
		t.Error(err)
	}
	mfs, _ := reg.Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() != "cdnsteer_cdn_status" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["cdn"] == "fastly" && labels["region"] == "kr" && labels["status"] == "degraded" && m.GetGauge().GetValue() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Error("fastly is not exported as degraded in kr")
	}
}
