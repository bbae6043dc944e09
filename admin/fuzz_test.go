package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// FuzzSignals feeds arbitrary bodies to the signals endpoint's handler:
// it must answer 202 or a 4xx JSON error naming what is wrong, never
// panic, and a refused batch must change nothing.
func FuzzSignals(f *testing.F) {
	for _, s := range []string{
		`{"signals": [{"cdn": "fastly", "region": "kr", "ttfb_ms": 850, "error_rate": 0.07, "cache_hit_ratio": 0.6, "throughput_gbps": 120, "samples": 5000}]}`,
		`{"signals": [{"cdn": "akamai", "error_rate": 0.5}, {"cdn": "nope", "ttfb_ms": 1}]}`,
		`{"signals": []}`,
		`{"signals": [{"cdn": "edgio", "time": "2026-06-14T19:00:00Z", "ttfb_ms": 1e308}]}`,
		`{"signals": [{"cdn": "edgio"}]} trailing`,
		`[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		engine := health.NewEngine(testHealthConfig(), nil)
		a := &api{cfg: Config{Engine: engine, Now: func() time.Time { return t0 }}}
		engine.Evaluate(t0)
		before, _ := json.Marshal(engine.View(t0).Policies)
		w := httptest.NewRecorder()
		a.postSignals(w, httptest.NewRequest(http.MethodPost, "/api/v1/signals", bytes.NewReader(body)))
		switch {
		case w.Code == http.StatusAccepted:
			return
		case w.Code < 400 || w.Code >= 500:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		var e struct{ Error string }
		if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Fatalf("a %d without a JSON error for %q: %s", w.Code, body, w.Body.Bytes())
		}
		// Signals show in the state only after an evaluation; with none
		// pushed, one must leave it as it was.
		engine.Evaluate(t0)
		after, _ := json.Marshal(engine.View(t0).Policies)
		if !bytes.Equal(before, after) {
			t.Fatalf("a refused batch changed the state: %q", body)
		}
	})
}
