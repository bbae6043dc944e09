package prom

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/cdnsteer/cdnsteer/health"
)

func sample(v float64, labels ...string) *model.Sample {
	m := model.Metric{"__name__": "m", "job": "cdn"}
	for i := 0; i < len(labels); i += 2 {
		m[model.LabelName(labels[i])] = model.LabelValue(labels[i+1])
	}
	return &model.Sample{Metric: m, Value: model.SampleValue(v), Timestamp: 1700000000123}
}

func TestToPointsDropsAndSorts(t *testing.T) {
	vec := model.Vector{
		sample(0.5, "cdn", "fastly", "region", "kr"),
		sample(0.1, "cdn", "akamai"),
		sample(0.2, "region", "kr"),            // no cdn
		sample(0.2, "cdn", "", "region", "kr"), // empty cdn is no cdn
		sample(math.NaN(), "cdn", "edgio"),     // not finite
		sample(math.Inf(1), "cdn", "edgio", "region", "jp"),
		sample(1.01, "cdn", "cloudfront"), // out of range for a ratio
		sample(-0.01, "cdn", "cloudfront", "region", "us"),
		sample(0.3, "cdn", "bunny", "instance", "a"), // duplicates
		sample(0.4, "cdn", "bunny", "instance", "b"),
		sample(0, "cdn", "akamai", "region", "jp"), // zero is a real value
		sample(1, "cdn", "akamai", "region", "kr"),
	}
	pts, drops, err := toPoints(vec, kindOf("error_rate"))
	if err != nil {
		t.Fatal(err)
	}
	want := []point{
		{place{"akamai", ""}, time.UnixMilli(1700000000123), 0.1},
		{place{"akamai", "jp"}, time.UnixMilli(1700000000123), 0},
		{place{"akamai", "kr"}, time.UnixMilli(1700000000123), 1},
		{place{"fastly", "kr"}, time.UnixMilli(1700000000123), 0.5},
	}
	if len(pts) != len(want) {
		t.Fatalf("points %+v, want %+v", pts, want)
	}
	for i := range want {
		if pts[i].place != want[i].place || pts[i].v != want[i].v || !pts[i].t.Equal(want[i].t) {
			t.Errorf("point %d = %+v, want %+v", i, pts[i], want[i])
		}
	}
	wantDrops := map[string]int{dropNoCDN: 2, dropNotFinite: 2, dropOutOfRange: 2, dropDuplicate: 2}
	for r, n := range wantDrops {
		if drops[r] != n {
			t.Errorf("drops[%s] = %d, want %d", r, drops[r], n)
		}
	}
}

func TestRanges(t *testing.T) {
	cases := []struct {
		key string
		v   float64
		ok  bool
	}{
		{"ttfb_ms", 0, true}, {"ttfb_ms", 120000, true}, {"ttfb_ms", -1, false},
		{"throughput_gbps", 0, true}, {"throughput_gbps", 4000, true}, {"throughput_gbps", -0.5, false},
		{"error_rate", 0, true}, {"error_rate", 1, true}, {"error_rate", 1.5, false},
		{"cache_hit_ratio", 0.97, true}, {"cache_hit_ratio", -0.1, false},
		{samplesKey, 0, true}, {samplesKey, 1e6, true}, {samplesKey, -1, false}, {samplesKey, 1e300, false},
	}
	for _, c := range cases {
		k := kindOf(c.key)
		if c.key == samplesKey {
			k = &samplesKind
		}
		_, drops, err := toPoints(model.Vector{sample(c.v, "cdn", "x")}, k)
		if err != nil {
			t.Fatal(err)
		}
		if got := drops[dropOutOfRange] == 0; got != c.ok {
			t.Errorf("%s %v: kept %v, want %v", c.key, c.v, got, c.ok)
		}
	}
}

func TestToPointsWantsVector(t *testing.T) {
	for _, v := range []model.Value{
		&model.Scalar{Value: 1},
		model.Matrix{},
		&model.String{Value: "x"},
		nil,
	} {
		_, _, err := toPoints(v, kindOf("ttfb_ms"))
		if err == nil {
			t.Errorf("%v: no error", v)
			continue
		}
		if v != nil && !strings.Contains(err.Error(), "want a vector") {
			t.Errorf("%v: error %q", v, err)
		}
	}
}

func TestToSignals(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	pts := []point{
		{place{"akamai", ""}, at, 120},
		{place{"akamai", "kr"}, at, 80},
		{place{"fastly", "kr"}, at, 40},
	}
	samples := sampleCounts([]point{
		{place{"akamai", ""}, at, 1000.4},
		{place{"fastly", "kr"}, at, 499.6},
		{place{"fastly", ""}, at, 7}, // no fallback from a region to the whole CDN
	})
	got := toSignals(pts, kindOf("throughput_gbps"), samples)
	want := []struct {
		cdn, region string
		samples     int
		v           float64
	}{{"akamai", "", 1000, 120}, {"akamai", "kr", 1, 80}, {"fastly", "kr", 500, 40}}
	if len(got) != len(want) {
		t.Fatalf("got %d signals, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.CDN != w.cdn || g.Region != w.region || g.Samples != w.samples || !g.Time.Equal(at) || g.Source != "prometheus" {
			t.Errorf("signal %d = %+v, want %+v", i, g, w)
		}
		want := health.Values{health.Throughput: &w.v}
		for k := range health.NumKinds {
			if (g.Values[k] == nil) != (want[k] == nil) || g.Values[k] != nil && *g.Values[k] != *want[k] {
				t.Errorf("signal %d %s = %v, want %v", i, k.Key(), g.Values[k], want[k])
			}
		}
	}
}

// Each kind must fill its own value and no other.
func TestKindsSetTheirValue(t *testing.T) {
	for _, k := range kinds {
		var s health.Signal
		k.set(&s, 0.25)
		set := 0
		for i, v := range s.Values {
			if v != nil {
				set++
				if key := health.Kind(i).Key(); key != k.key || *v != 0.25 {
					t.Errorf("kind %s set %s to %v", k.key, key, *v)
				}
			}
		}
		if set != 1 {
			t.Errorf("kind %s set %d values", k.key, set)
		}
	}
}
