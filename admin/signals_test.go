package admin

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestPushSignals(t *testing.T) {
	f := newFixture(t)
	at := t0.Add(-10 * time.Second)
	body := fmt.Sprintf(`{"signals": [
		{"cdn": "fastly", "region": "kr", "ttfb_ms": 850, "error_rate": 0.07, "cache_hit_ratio": 0.6, "throughput_gbps": 120, "samples": 5000, "time": %q},
		{"cdn": "akamai", "ttfb_ms": 150}
	]}`, at.Format(time.RFC3339))
	r := f.write("POST", "/api/v1/signals", body)
	if r.code != http.StatusAccepted {
		t.Fatalf("status %d: %s", r.code, r.body)
	}
	if n := r.json(t)["accepted"]; n != 2.0 {
		t.Errorf("accepted %v, want 2", n)
	}
	kr := f.signals("kr", "fastly")
	// A region's own throughput is its demand, read by the capacity step,
	// not a health reading of the region (health/store.go): it is not
	// among the readings the region is scored on.
	if kr.Values[health.TTFB] == nil || *kr.Values[health.TTFB] != 850 || kr.Values[health.ErrorRate] == nil || *kr.Values[health.ErrorRate] != 0.07 ||
		kr.Values[health.CacheHit] == nil || *kr.Values[health.CacheHit] != 0.6 || kr.Values[health.Throughput] != nil {
		t.Errorf("fastly in kr: %+v", kr)
	}
	// ... and the capacity step measures it: 120 of fastly's 250 Gbit/s.
	if u := f.utilisation("kr", "fastly"); u == nil || math.Abs(*u-120.0/250) > 1e-9 {
		t.Errorf("fastly's utilisation %v, want the pushed 120 Gbit/s of its 250", u)
	}
	if !kr.Newest.Equal(at) {
		t.Errorf("fastly's reading is from %s, want the pushed time %s", kr.Newest, at)
	}
	// A signal for one region stays there.
	if d := f.signals("default", "fastly"); d.Values[health.TTFB] != nil {
		t.Errorf("fastly in default got kr's signal: %+v", d)
	}
	// No region means every region; no time means now.
	for _, region := range []string{"default", "kr"} {
		a := f.signals(region, "akamai")
		if a.Values[health.TTFB] == nil || *a.Values[health.TTFB] != 150 || !a.Newest.Equal(t0) {
			t.Errorf("akamai in %s: %+v", region, a)
		}
	}
}

func TestPushSignalsRejected(t *testing.T) {
	now := t0.Format(time.RFC3339)
	tooMany := `{"signals": [` + strings.Repeat(`{"cdn":"fastly","ttfb_ms":1},`, maxSignals) + `{"cdn":"fastly","ttfb_ms":1}]}`
	huge := `{"signals": [{"cdn":"fastly","ttfb_ms":1, "region": "` + strings.Repeat("x", maxBody) + `"}]}`
	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"bad JSON", `{"signals": [{"cdn": "fastly",}]}`, 400, ""},
		{"truncated", `{"signals": [{"cdn": "fastly"`, 400, ""},
		{"empty body", ``, 400, ""},
		{"not an object", `[1, 2]`, 400, ""},
		{"unknown field", `{"signals": [{"cdn": "fastly", "ttfb": 100}]}`, 400, "ttfb"},
		{"kind a push may not feed", `{"signals": [{"cdn": "fastly", "download_mbps": 100}]}`, 400, "download_mbps"},
		{"entry not an object", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}, 7]}`, 400, "signals"},
		{"unknown top-level field", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}], "dry_run": true}`, 400, "dry_run"},
		{"trailing garbage", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}]} x`, 400, ""},
		{"second object", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}]}{"signals": []}`, 400, ""},
		{"wrong type", `{"signals": [{"cdn": "fastly", "ttfb_ms": "fast"}]}`, 400, "signals.ttfb_ms"},
		{"no signals", `{}`, 400, "signals"},
		{"empty list", `{"signals": []}`, 400, "signals"},
		{"too many", tooMany, 400, "signals"},
		{"oversized", huge, 413, ""},
		{"unknown cdn last", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}, {"cdn": "akamai", "ttfb_ms": 100}, {"cdn": "x", "ttfb_ms": 100}]}`, 400, "signals[2].cdn"},
		{"unknown region", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}, {"cdn": "fastly", "region": "mars", "ttfb_ms": 100}]}`, 400, "signals[1].region"},
		{"out of range", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}, {"cdn": "fastly", "error_rate": 1.5}]}`, 400, "signals[1].error_rate"},
		{"beyond float64", `{"signals": [{"cdn": "fastly", "ttfb_ms": 1e999}]}`, 400, "signals.ttfb_ms"},
		{"NaN literal", `{"signals": [{"cdn": "fastly", "throughput_gbps": NaN}]}`, 400, ""},
		{"no value", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}, {"cdn": "fastly", "samples": 5}]}`, 400, "signals[1]"},
		{"negative samples", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100, "samples": -1}]}`, 400, "signals[0].samples"},
		{"bad time", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100, "time": "` + now + `"}, {"cdn": "fastly", "ttfb_ms": 100, "time": "yesterday"}]}`, 400, "signals[1].time"},
		{"future", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}, {"cdn": "fastly", "ttfb_ms": 1}, {"cdn": "edgio", "ttfb_ms": 1}, {"cdn": "fastly", "ttfb_ms": 100, "time": "` + t0.Add(6*time.Minute).Format(time.RFC3339) + `"}]}`, 400, "signals[3].time"},
		{"too old", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100, "time": "` + t0.Add(-61*time.Minute).Format(time.RFC3339) + `"}]}`, 400, "signals[0].time"},
		{"unknown query parameter", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}]}`, 400, "dry_run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			before := f.state()
			path := "/api/v1/signals"
			if tc.name == "unknown query parameter" {
				path += "?dry_run=1"
			}
			expectError(t, f.write("POST", path, tc.body), tc.code, tc.field)
			f.unchanged(before)
			f.noSignals()
		})
	}
}

func TestPushSignalsMessageNamesEntry(t *testing.T) {
	f := newFixture(t)
	r := f.write("POST", "/api/v1/signals", `{"signals": [{"cdn": "fastly", "ttfb_ms": 1}, {"cdn": "fastly", "ttfb_ms": 1}, {"cdn": "x", "ttfb_ms": 1}]}`)
	if msg := r.json(t)["error"]; msg != `signals[2].cdn: unknown cdn "x"` {
		t.Errorf("error %q", msg)
	}
}

func TestPushSignalsMethod(t *testing.T) {
	f := newFixture(t)
	r := f.write("GET", "/api/v1/signals", "")
	expectError(t, r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "POST" {
		t.Errorf("Allow %q, want POST", allow)
	}
}
