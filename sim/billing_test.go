package sim

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestP95(t *testing.T) {
	seq := func(n int) []float64 {
		var s []float64
		for i := n; i >= 1; i-- { // descending: P95 must sort
			s = append(s, float64(i))
		}
		return s
	}
	for _, tc := range []struct {
		name    string
		samples []float64
		want    float64
	}{
		{"none", nil, 0},
		{"one", []float64{7}, 7},
		// Under 20 samples 5 % is less than one: none is dropped.
		{"19 samples: the highest", seq(19), 19},
		// 20 samples: one dropped, the second highest billed.
		{"20 samples", seq(20), 19},
		// A 3-hour event: 36 samples, 5 % is 1.8, one dropped.
		{"36 samples", seq(36), 35},
		{"39 samples", seq(39), 38},
		// 40: two dropped.
		{"40 samples", seq(40), 38},
		// A month of 5-minute samples, 8640: 432 dropped.
		{"8640 samples", seq(8640), 8208},
		// A burst of two windows in 36 is not forgiven: the second one
		// is billed.
		{"two bursts", append(slices.Repeat([]float64{100}, 34), 900, 800), 800},
		{"one burst", append(slices.Repeat([]float64{100}, 35), 900), 100},
		{"ties", []float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 9, 9}, 9},
	} {
		in := slices.Clone(tc.samples)
		if got := P95(tc.samples); got != tc.want {
			t.Errorf("%s: P95 = %g, want %g", tc.name, got, tc.want)
		}
		if !slices.Equal(in, tc.samples) {
			t.Errorf("%s: P95 reordered its input", tc.name)
		}
	}
}

func TestBill(t *testing.T) {
	p95 := &Billing{Model: BillingP95, CommitGbps: 100, Price: 10, OveragePrice: 15}
	vol := &Billing{Model: BillingVolume, CommitTB: 5, Price: 100, OveragePrice: 100}
	for _, tc := range []struct {
		name      string
		b         *Billing
		p95, tb   float64
		want      BillingSummary
		wantPeak  int64
		wantRatio float64
	}{
		{"p95 under its commit pays the commit", p95, 80, 3, BillingSummary{Model: "p95", Unit: "Gbit/s", Commit: 100, Used: 80, Billable: 100,
			CommitCost: 1000, Cost: 1000, ExceedAudience: 1250}, 1000, 0},
		{"p95 over its commit pays the overage", p95, 130, 3, BillingSummary{Model: "p95", Unit: "Gbit/s", Commit: 100, Used: 130, Billable: 130,
			Overage: 30, CommitCost: 1000, OverageCost: 450, Cost: 1450, ExceedAudience: 100.0 / 130 * 1000}, 1000, 0},
		{"volume reads the TB, not the rate", vol, 130, 7, BillingSummary{Model: "volume", Unit: "TB", Commit: 5, Used: 7, Billable: 7,
			Overage: 2, CommitCost: 500, OverageCost: 200, Cost: 700, ExceedAudience: 5.0 / 7 * 1000}, 1000, 0},
		{"nothing delivered: never passed", p95, 0, 0, BillingSummary{Model: "p95", Unit: "Gbit/s", Commit: 100, Billable: 100,
			CommitCost: 1000, Cost: 1000}, 1000, 0},
	} {
		if got := tc.b.bill(tc.p95, tc.tb, tc.wantPeak); got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	// No commit: everything is overage, and no audience passes it.
	if got := (&Billing{Model: BillingP95, Price: 10, OveragePrice: 12}).bill(50, 1, 1000); got.Cost != 600 || got.ExceedAudience != 0 {
		t.Errorf("no commit: %+v", got)
	}
}

// TestMeterSamples feeds a meter one-minute steps of 1, 2, … 12 Gbit/s
// in a region with its own commit, and 1 Gbit/s in another: there the
// 5-minute windows average 3 and 8, and the last, two minutes long, 11.5;
// the CDN's one more each.
func TestMeterSamples(t *testing.T) {
	sc := &Scenario{Step: time.Minute, Regions: []Region{{Name: "kr"}, {Name: "default"}},
		CDNs: []CDN{{Name: "a", Regions: []CDNRegion{{CommitGbps: 10}, {}}, Billing: &Billing{Model: BillingVolume, Price: 1, OveragePrice: 1}}}}
	m := newMeter(sc)
	st := newStep(2, 1)
	for k := range 12 {
		st.Elapsed = time.Duration(k) * time.Minute
		st.DeliveredGbps[0][0] = float64(k + 1)
		st.DeliveredGbps[1][0] = 1
		m.add(&st)
	}
	s := m.finish(Summary{PeakAudience: 100, CDNs: make([]CapacitySummary, 1), Regional: make([]CapacitySummary, 1)})
	if got := s.Regional[0].P95Gbps; got != 11.5 {
		t.Errorf("regional p95 = %g, want 11.5", got)
	}
	if got, want := s.CDNs[0].samples, []float64{4, 9, 12.5}; !slices.Equal(got, want) {
		t.Errorf("samples = %v, want %v", got, want)
	}
	// (78 + 12) Gbit/s-minutes = 5400 Gbit = 0.675 TB.
	if b := s.CDNs[0].Billing; b == nil || math.Abs(b.Used-0.675) > 1e-12 || s.CDNs[0].Cost == nil || *s.CDNs[0].Cost != b.Cost {
		t.Errorf("billing %+v", b)
	}
}

func TestBillingBinds(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, `
[audience]
points = [{ at = "0m", viewers = 10 }, { at = "1h", viewers = 10 }]
[cdn.a.billing]
price_per_gbps = 2.5
[cdn.b]
commit_gbps = 250
[cdn.b.billing]
model = "p95"
commit_gbps = 100
price_per_gbps = 3
overage_price_per_gbps = 4
[cdn.c.billing]
model = "volume"
commit_tb = 40
price_per_tb = 9
`)
	for i, want := range []*Billing{
		// a commits its capacity commit (the policy's) and pays overage at its price.
		{Model: BillingP95, CommitGbps: 400, Price: 2.5, OveragePrice: 2.5},
		{Model: BillingP95, CommitGbps: 100, Price: 3, OveragePrice: 4},
		{Model: BillingVolume, CommitTB: 40, Price: 9, OveragePrice: 9},
	} {
		if got := sc.CDNs[i].Billing; got == nil || *got != *want {
			t.Errorf("cdn %s billing = %+v, want %+v", sc.CDNs[i].Name, got, want)
		}
	}
	if sc := mustScenario(t, snap, "[audience]\npoints = [{ at = \"0m\", viewers = 10 }, { at = \"1h\", viewers = 10 }]\n"); sc.CDNs[0].Billing != nil {
		t.Errorf("billing without a table: %+v", sc.CDNs[0].Billing)
	}
}

func TestBillingErrors(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	const head = "[audience]\npoints = [{ at = \"0m\", viewers = 10 }, { at = \"1h\", viewers = 10 }]\n"
	for _, tc := range []struct{ doc, want string }{
		{"[cdn.a.billing]\nmodel = \"flat\"\n",
			`s.toml:4: cdn "a": billing model "flat" is neither "p95" nor "volume"`},
		{"[cdn.a.billing]\nprice_per_gbps = -3\n",
			`s.toml:4: cdn "a": billing price_per_gbps = -3 must be a number, 0 or more`},
		{"[cdn.a.billing]\ncommit_gbps = -1\noverage_price_per_gbps = nan\n",
			"s.toml:4: cdn \"a\": billing commit_gbps = -1 must be a number, 0 or more\n" +
				`s.toml:5: cdn "a": billing overage_price_per_gbps = NaN must be a number, 0 or more`},
		{"[cdn.b.billing]\nmodel = \"volume\"\ncommit_tb = -2\nprice_per_tb = inf\n",
			"s.toml:5: cdn \"b\": billing commit_tb = -2 must be a number, 0 or more\n" +
				`s.toml:6: cdn "b": billing price_per_tb = +Inf must be a number, 0 or more`},
		{"[cdn.b.billing]\nmodel = \"volume\"\ncommit_gbps = 100\nprice_per_tb = 5\n",
			`s.toml:5: cdn "b": commit_gbps is not a key of billing model "volume", which takes commit_tb, price_per_tb, overage_price_per_tb`},
		{"[cdn.c.billing]\ncommit_tb = 100\nprice_per_gbps = 5\n",
			`s.toml:4: cdn "c": commit_tb is not a key of billing model "p95", which takes commit_gbps, price_per_gbps, overage_price_per_gbps`},
		{"[cdn.zz.billing]\nmodel = \"p95\"\n",
			`s.toml:3: cdn "zz" is not in the policy file`},
		{"[cdn.a.billing]\nprice_per_gigabit = 5\n",
			`s.toml:4: unknown key "cdn.a.billing.price_per_gigabit"`},
	} {
		_, err := ParseScenario("s.toml", []byte(head+tc.doc), snap)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s\n got %v\nwant %s", tc.doc, err, tc.want)
		}
	}
}

// billedScenario has a flat audience of viewers in the default region for
// 30 minutes: a takes half of it, b and c a quarter each, at 5 Mbit/s.
func billedScenario(t *testing.T, viewers float64) *Scenario {
	t.Helper()
	return mustScenario(t, mustPolicy(t, twoRegions), strings.ReplaceAll(`
duration = "30m"
[audience]
points = [{ at = "0m", viewers = VIEWERS }, { at = "30m", viewers = VIEWERS }]
[cdn.a.billing]
commit_gbps = 50
price_per_gbps = 10
overage_price_per_gbps = 20
[cdn.b.billing]
model = "volume"
commit_tb = 5
price_per_tb = 100
`, "VIEWERS", strconv.FormatFloat(viewers, 'f', -1, 64)))
}

func TestOvershootingTheCommitRaisesTheCost(t *testing.T) {
	small := mustRun(t, billedScenario(t, 10000), nil).Summary
	big := mustRun(t, billedScenario(t, 30000), nil).Summary
	a, b := small.CDNs[0], small.CDNs[1]
	// 10,000 viewers: a carries about 25 Gbit/s, under its billing
	// commit of 50, and pays the commit; b about 2.8 TB of its 5.
	if a.Billing == nil || a.P95Gbps < 20 || a.P95Gbps > 30 || a.Billing.Overage != 0 || *a.Cost != 500 {
		t.Errorf("a at 10,000 viewers: p95 %g, %+v", a.P95Gbps, a.Billing)
	}
	if b.Billing == nil || b.Billing.Used > 5 || *b.Cost != 500 {
		t.Errorf("b at 10,000 viewers: %+v", b.Billing)
	}
	// 30,000 viewers: a is billed about 75 Gbit/s, 25 of it overage at
	// 20; b about 8.4 TB.
	a3, b3 := big.CDNs[0], big.CDNs[1]
	if a3.Billing.Overage < 20 || a3.Billing.Overage > 30 || *a3.Cost != 500+20*a3.Billing.Overage {
		t.Errorf("a at 30,000 viewers: p95 %g, %+v", a3.P95Gbps, a3.Billing)
	}
	if b3.Billing.Overage <= 0 || *b3.Cost <= *b.Cost {
		t.Errorf("b at 30,000 viewers: %+v", b3.Billing)
	}
	// c has no billing: its p95 is there, its cost is not.
	if c := big.CDNs[2]; c.P95Gbps <= 0 || c.Cost != nil || c.Billing != nil {
		t.Errorf("c: %+v", c)
	}
	js, err := json.Marshal(big)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(js), `"p95_gbps":`); n != 3 {
		t.Errorf("p95_gbps %d times in %s", n, js)
	}
	if n := strings.Count(string(js), `"cost":`); n != 4 { // a and b: the row's and the billing's
		t.Errorf("cost %d times in %s", n, js)
	}
}

// TestExceedAudience checks the method: rehearsed again at the audience
// it names, a's p95 is its commit.
func TestExceedAudience(t *testing.T) {
	a := mustRun(t, billedScenario(t, 10000), nil).Summary.CDNs[0]
	at := a.Billing.ExceedAudience
	if at < 15000 || at > 25000 {
		t.Fatalf("a passes its commit at %g viewers", at)
	}
	again := mustRun(t, billedScenario(t, math.Round(at)), nil).Summary.CDNs[0]
	if math.Abs(again.P95Gbps-50) > 0.5 {
		t.Errorf("at %g viewers a's p95 is %g, want its commit 50", math.Round(at), again.P95Gbps)
	}
}

func TestBillingInTheReport(t *testing.T) {
	has := func(res *Result) (section, figure bool) {
		doc := res.Document()
		for _, s := range doc.Sections {
			section = section || s.ID == "billing"
		}
		for _, f := range doc.Figures {
			figure = figure || f.ID == "event-cost"
		}
		return
	}
	if s, f := has(mustRun(t, billedScenario(t, 10000), nil)); !s || !f {
		t.Errorf("billed: section %v, figure %v", s, f)
	}
	sc := billedScenario(t, 10000)
	for i := range sc.CDNs {
		sc.CDNs[i].Billing = nil
	}
	if s, f := has(mustRun(t, sc, nil)); s || f {
		t.Errorf("unbilled: section %v, figure %v", s, f)
	}
}
