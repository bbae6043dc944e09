package health

import (
	"fmt"
	"reflect"
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

// manyPolicies is testConfig with n policies, the i-th's weights turned
// by i so that each differs.
func manyPolicies(n int, regions []string, cdns []CDNInfo) Config {
	cfg := Config{CDNs: cdns, Regions: regions}
	for i := range n {
		p := PolicyInfo{Name: fmt.Sprintf("p%04d", i), Params: DefaultParams(), TTL: 20 * time.Second}
		for ri := range regions {
			w := make([]float64, len(cdns))
			for ci := range w {
				w[ci] = float64(10 + (i+ri+3*ci)%40)
			}
			p.Baseline = append(p.Baseline, w)
		}
		cfg.Policies = append(cfg.Policies, p)
	}
	return cfg
}

// series counts what reg exports, by metric name.
func series(t testing.TB, reg *prometheus.Registry) (map[string]int, int) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	by, total := map[string]int{}, 0
	for _, mf := range mfs {
		by[mf.GetName()] = len(mf.GetMetric())
		total += len(mf.GetMetric())
	}
	return by, total
}

// The engine's series are by region and CDN, whatever the number of
// policies: with a thousand steered names, one series per policy, region,
// CDN (and status) made a million and took 14 s to render (issue 22).
func TestCollectorSeriesDoNotGrowWithPolicies(t *testing.T) {
	cdns := testConfig().CDNs
	regions := []string{"default", "kr", "jp"}
	count := func(n int) (map[string]int, int) {
		e := NewEngine(manyPolicies(n, regions, cdns), nil)
		run(e, t0, 3, allGood)
		reg := prometheus.NewRegistry()
		reg.MustRegister(NewCollector(e))
		return series(t, reg)
	}
	one, oneTotal := count(1)
	many, manyTotal := count(40)
	if oneTotal != manyTotal {
		t.Errorf("%d series with 1 policy, %d with 40; want the same: %v against %v", oneTotal, manyTotal, one, many)
	}
	if want := len(cdns) * len(regions) * len(allStatuses); many["cdnsteer_cdn_status"] != want {
		t.Errorf("cdnsteer_cdn_status: %d series, want %d (CDN × region × status)", many["cdnsteer_cdn_status"], want)
	}
}

// Counts and summaries over policies: fastly degraded in kr in both
// policies, drained in one; the score is the lowest, weights the mean.
func TestCollectorSumsPolicies(t *testing.T) {
	cfg := manyPolicies(2, []string{"default", "kr"}, testConfig().CDNs)
	e := NewEngine(cfg, nil)
	at := run(e, t0, 10, allGood)
	run(e, at, 5, fastlyBadFrom(at))
	e.AddOverride(Override{Action: ActionDrain, CDN: "akamai", Region: "kr", Policy: "p0001", Reason: "test", Expires: time.Now().Add(time.Hour)}, time.Now())
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e))
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP cdnsteer_cdn_status Policies in which the CDN has this status in the region (healthy, degraded, recovering, drained).
# TYPE cdnsteer_cdn_status gauge
cdnsteer_cdn_status{cdn="akamai",region="default",status="degraded"} 0
cdnsteer_cdn_status{cdn="akamai",region="default",status="drained"} 0
cdnsteer_cdn_status{cdn="akamai",region="default",status="healthy"} 2
cdnsteer_cdn_status{cdn="akamai",region="default",status="recovering"} 0
cdnsteer_cdn_status{cdn="akamai",region="kr",status="degraded"} 0
cdnsteer_cdn_status{cdn="akamai",region="kr",status="drained"} 1
cdnsteer_cdn_status{cdn="akamai",region="kr",status="healthy"} 1
cdnsteer_cdn_status{cdn="akamai",region="kr",status="recovering"} 0
cdnsteer_cdn_status{cdn="cloudfront",region="default",status="degraded"} 0
cdnsteer_cdn_status{cdn="cloudfront",region="default",status="drained"} 0
cdnsteer_cdn_status{cdn="cloudfront",region="default",status="healthy"} 2
cdnsteer_cdn_status{cdn="cloudfront",region="default",status="recovering"} 0
cdnsteer_cdn_status{cdn="cloudfront",region="kr",status="degraded"} 0
cdnsteer_cdn_status{cdn="cloudfront",region="kr",status="drained"} 0
cdnsteer_cdn_status{cdn="cloudfront",region="kr",status="healthy"} 2
cdnsteer_cdn_status{cdn="cloudfront",region="kr",status="recovering"} 0
cdnsteer_cdn_status{cdn="edgio",region="default",status="degraded"} 0
cdnsteer_cdn_status{cdn="edgio",region="default",status="drained"} 0
cdnsteer_cdn_status{cdn="edgio",region="default",status="healthy"} 2
cdnsteer_cdn_status{cdn="edgio",region="default",status="recovering"} 0
cdnsteer_cdn_status{cdn="edgio",region="kr",status="degraded"} 0
cdnsteer_cdn_status{cdn="edgio",region="kr",status="drained"} 0
cdnsteer_cdn_status{cdn="edgio",region="kr",status="healthy"} 2
cdnsteer_cdn_status{cdn="edgio",region="kr",status="recovering"} 0
cdnsteer_cdn_status{cdn="fastly",region="default",status="degraded"} 2
cdnsteer_cdn_status{cdn="fastly",region="default",status="drained"} 0
cdnsteer_cdn_status{cdn="fastly",region="default",status="healthy"} 0
cdnsteer_cdn_status{cdn="fastly",region="default",status="recovering"} 0
cdnsteer_cdn_status{cdn="fastly",region="kr",status="degraded"} 2
cdnsteer_cdn_status{cdn="fastly",region="kr",status="drained"} 0
cdnsteer_cdn_status{cdn="fastly",region="kr",status="healthy"} 0
cdnsteer_cdn_status{cdn="fastly",region="kr",status="recovering"} 0
# HELP cdnsteer_policies Policies loaded: what the per-policy counts above count out of.
# TYPE cdnsteer_policies gauge
cdnsteer_policies 2
`), "cdnsteer_cdn_status", "cdnsteer_policies")
	if err != nil {
		t.Error(err)
	}
	v := e.View(time.Now())
	var wantBase float64
	var wantScore float64 = 101
	for _, p := range v.Policies {
		c := p.Regions[1].CDNs[1] // kr, cloudfront
		wantBase += c.Baseline / 2
		if c.Score != nil {
			wantScore = min(wantScore, *c.Score)
		}
	}
	if got := gaugeOf(t, reg, "cdnsteer_cdn_baseline_weight", "kr", "cloudfront"); got != wantBase {
		t.Errorf("baseline weight of cloudfront in kr = %v, want the mean %v", got, wantBase)
	}
	if got := gaugeOf(t, reg, "cdnsteer_cdn_score", "kr", "cloudfront"); got != wantScore {
		t.Errorf("score of cloudfront in kr = %v, want the lowest %v", got, wantScore)
	}
}

func gaugeOf(t *testing.T, reg *prometheus.Registry, name, region, cdn string) float64 {
	t.Helper()
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			if l["region"] == region && l["cdn"] == cdn {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("%s{region=%q,cdn=%q} not exported", name, region, cdn)
	return 0
}

// BenchmarkCollect1000Policies renders the engine's series for 1,000
// steered names (20 regions, 6 CDNs): the scrape must stay well within
// Prometheus's timeout, and the series under 50,000.
func BenchmarkCollect1000Policies(b *testing.B) {
	var regions []string
	for i := range 20 {
		regions = append(regions, fmt.Sprintf("r%02d", i))
	}
	var cdns []CDNInfo
	for i := range 6 {
		cdns = append(cdns, CDNInfo{Name: fmt.Sprintf("cdn%d", i), CommitGbps: 1000})
	}
	e := NewEngine(manyPolicies(1000, regions, cdns), nil)
	e.Evaluate(t0)
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e))
	if _, n := series(b, reg); n >= 50000 {
		b.Fatalf("%d series for 1,000 policies, want fewer than 50,000", n)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestVisitViewFoldsAsTheView holds the metrics' fold of VisitView, which
// never holds every policy at once, to the same fold of the whole View.
func TestVisitViewFoldsAsTheView(t *testing.T) {
	cfg := manyPolicies(30, []string{"eu", "kr", "us"}, benchCDNs())
	e := NewEngine(cfg, nil)
	for s := range 20 {
		at := t0.Add(time.Duration(s) * time.Second)
		for ri, r := range cfg.Regions {
			for ci, c := range cfg.CDNs {
				errs := 0.001
				if ri == 1 && ci == 2 && s > 5 {
					errs = 0.4
				}
				e.Push(Signal{CDN: c.Name, Region: r, Time: at, Samples: 1000, Source: SourcePush,
					Values: Values{TTFB: F(80 + float64(ci)), ErrorRate: F(errs), CacheHit: F(0.96), Throughput: F(100)}})
			}
		}
		e.Evaluate(at)
	}
	now := t0.Add(30 * time.Second)
	e.AddOverride(Override{Action: ActionDrain, CDN: "cdn3", Region: "kr", Reason: "test", Expires: now.Add(time.Hour)}, now)
	var streamed summary
	head := e.VisitView(now, streamed.add)
	whole := e.View(now)
	var folded summary
	for _, p := range whole.Policies {
		for i := range p.Regions {
			folded.add(p.Name, &p.Regions[i])
		}
	}
	if streamed.policies != len(whole.Policies) || folded.policies != len(whole.Policies) {
		t.Fatalf("policies counted %d streamed, %d folded, %d in the view", streamed.policies, folded.policies, len(whole.Policies))
	}
	if len(head.Overrides) != 1 || !reflect.DeepEqual(head.Overrides, whole.Overrides) || head.Policies != nil {
		t.Fatalf("the visit's head %+v", head)
	}
	if len(streamed.cdns) != 18 || !reflect.DeepEqual(streamed.cdns, folded.cdns) || !reflect.DeepEqual(streamed.regions, folded.regions) {
		t.Fatalf("streamed fold differs from the view's:\n%+v\n%+v", streamed.cdns, folded.cdns)
	}
}
