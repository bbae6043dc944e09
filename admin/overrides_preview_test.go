package admin

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

// TestOverrideDryRun: ?dry_run=1 answers the split per region the engine
// then publishes once the override is put in force, and changes nothing.
func TestOverrideDryRun(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ name, body string }{
		{"drain everywhere", `{"action": "drain", "cdn": "akamai", "ttl": "10m", "reason": "PoP issue"}`},
		{"pin kr", `{"action": "pin", "cdn": "edgio", "region": "kr", "ttl": "10m", "reason": "test"}`},
		{"freeze kr", `{"action": "freeze", "region": "kr", "ttl": "10m", "reason": "test"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.engine.Evaluate(f.clock.now())
			before := f.state()
			r := f.write("POST", "/api/v1/overrides?dry_run=1", c.body)
			if r.code != http.StatusOK {
				t.Fatalf("dry run: %d %s", r.code, r.body)
			}
			f.unchanged(before)
			var p struct {
				DryRun bool `json:"dry_run"`
				Split  []health.RegionPreview
			}
			if err := json.Unmarshal(r.body, &p); err != nil || !p.DryRun || len(p.Split) == 0 {
				t.Fatalf("dry run answer %s (%v)", r.body, err)
			}
			r = f.write("POST", "/api/v1/overrides", c.body)
			if r.code != http.StatusCreated {
				t.Fatalf("for real: %d %s", r.code, r.body)
			}
			var o health.Override
			if err := json.Unmarshal(r.body, &o); err != nil {
				t.Fatal(err)
			}
			f.engine.Evaluate(f.clock.now())
			for _, rp := range p.Split {
				for _, rv := range f.engine.View(f.clock.now()).Policies[0].Regions {
					if rv.Name != rp.Region {
						continue
					}
					for _, cv := range rv.CDNs {
						if math.Abs(cv.Share-rp.After[cv.Name]) > 0.001 {
							t.Errorf("%s %s: previewed %.4f, published %.4f", rp.Region, cv.Name, rp.After[cv.Name], cv.Share)
						}
					}
				}
			}
			if r := f.write("DELETE", "/api/v1/overrides/"+o.ID, ""); r.code != http.StatusNoContent {
				t.Fatalf("delete: %d %s", r.code, r.body)
			}
		})
	}
}

// TestPinRefused: a pin to a drained CDN is a 409 naming why, which changes
// nothing, unless forced; the dry run lists the hazard.
func TestPinRefused(t *testing.T) {
	f := newFixture(t)
	if r := f.write("POST", "/api/v1/overrides", `{"action": "drain", "cdn": "fastly", "ttl": "10m", "reason": "out"}`); r.code != http.StatusCreated {
		t.Fatalf("drain: %d %s", r.code, r.body)
	}
	f.engine.Evaluate(f.clock.now())
	pin := `{"action": "pin", "cdn": "fastly", "region": "kr", "ttl": "10m", "reason": "test"`
	before := f.state()
	r := f.write("POST", "/api/v1/overrides", pin+`}`)
	expectError(t, r, http.StatusConflict, "cdn")
	f.unchanged(before)
	var refused pinRefused
	if err := json.Unmarshal(r.body, &refused); err != nil || len(refused.Hazards) != 1 || refused.Hazards[0].Problem != "drained" {
		t.Errorf("409 body %s (%v)", r.body, err)
	}
	r = f.write("POST", "/api/v1/overrides?dry_run=true", pin+`}`)
	if m := r.json(t); r.code != http.StatusOK || len(m["hazards"].([]any)) != 1 {
		t.Errorf("dry run of a refused pin: %d %s", r.code, r.body)
	}
	expectError(t, f.write("POST", "/api/v1/overrides?dry_run=maybe", pin+`}`), http.StatusBadRequest, "dry_run")
	if r := f.write("POST", "/api/v1/overrides", pin+`, "force": true}`); r.code != http.StatusCreated {
		t.Errorf("forced pin: %d %s", r.code, r.body)
	}
}
