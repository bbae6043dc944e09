package health

import (
	"math"
	"testing"
	"time"
)

func TestScore(t *testing.T) {
	p := DefaultParams()
	cases := []struct {
		name   string
		r      Readings
		commit float64
		want   float64
		ok     bool
	}{
		{"nothing fresh", Readings{}, 0, 0, false},
		{"all good", Readings{Values: Values{TTFB: F(100), ErrorRate: F(0), CacheHit: F(0.99)}}, 0, 100, true},
		{"ttfb half way", Readings{Values: Values{TTFB: F(600)}}, 0, 50, true},
		{"higher is better", Readings{Values: Values{CacheHit: F(0.725)}}, 0, 50, true},
		{"weighted mean", Readings{Values: Values{TTFB: F(1000), CacheHit: F(0.95)}}, 0, 100 * 0.1 / 0.4, true},
		{"utilisation with a commit", Readings{Values: Values{Throughput: F(85)}}, 100, 50, true},
		{"download rate without a commit", Readings{Values: Values{Throughput: F(85), Download: F(11)}}, 0, 50, true},
		{"errors past bad gate everything", Readings{Values: Values{TTFB: F(50), ErrorRate: F(0.5), CacheHit: F(1), Download: F(100)}}, 0, 0, true},
		{"moderate errors only lower the mean", Readings{Values: Values{TTFB: F(50), ErrorRate: F(0.055)}}, 0, 100 * (0.3 + 0.4*0.5) / 0.7, true},
	}
	for _, tc := range cases {
		got, ok := Score(tc.r, p, tc.commit)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: Score = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCapacityFactor(t *testing.T) {
	p := DefaultParams()
	for _, tc := range []struct{ u, want float64 }{{0, 1}, {0.85, 1}, {0.925, 0.5}, {1, 0}, {1.3, 0}} {
		if got := CapacityFactor(tc.u, p); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("CapacityFactor(%v) = %v, want %v", tc.u, got, tc.want)
		}
	}
}

// TestFailingEdgeWithGoodOldReadings is the case a 503ing edge makes: its
// cache and download readings from before the failure are still fresh, but
// it must go down as fast as one that stopped answering altogether.
func TestFailingEdgeWithGoodOldReadings(t *testing.T) {
	e := NewEngine(testConfig(), nil)
	at := run(e, t0, 10, func(cdn string, ts time.Time) Signal {
		s := good(cdn, ts)
		s.Values[Download] = F(80)
		return s
	})
	failing := func(cdn string, ts time.Time) Signal {
		if cdn == "fastly" {
			return Signal{CDN: cdn, Time: ts, Values: Values{TTFB: F(150), ErrorRate: F(1)}, Source: "probe"} // a fast 503
		}
		return good(cdn, ts)
	}
	run(e, at, 3, failing)
	if w := weightOf(e.Table(), 0, 3); w != 0 {
		t.Errorf("fastly failing every probe still has weight %v after 3 evaluations", w)
	}
}
