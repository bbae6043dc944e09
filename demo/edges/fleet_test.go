package edges

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestFleet(t *testing.T) {
	names := []string{"akamai", "edgio", "fastly", "cloudfront"}
	fl, err := StartFleet(names, Healthy)
	if err != nil {
		t.Fatal(err)
	}
	st := fl.Status()
	if len(st) != 4 {
		t.Fatalf("%d edges", len(st))
	}
	urls := map[string]bool{}
	for i, s := range st {
		if s.CDN != names[i] || s.Knobs != Healthy || urls[s.URL] {
			t.Errorf("edge %d: %+v", i, s)
		}
		urls[s.URL] = true
	}
	if fl.Edge("fastly") == nil || fl.Edge("nope") != nil {
		t.Error("Edge lookup")
	}

	// The JSON the demo API answers is flat: knobs and counters beside
	// the name.
	b, _ := json.Marshal(st[0])
	for _, k := range []string{`"cdn":"akamai"`, `"latency_ms":20`, `"error_rate":0`, `"cache_hit_ratio":0.98`, `"bandwidth_mbps":200`, `"requests":0`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("status JSON %s lacks %s", b, k)
		}
	}

	url := fl.Edge("edgio").URL()
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Error("a closed edge still answers")
	}
}

func TestFleetRefusesDuplicates(t *testing.T) {
	if _, err := StartFleet([]string{"a", "a"}, Healthy); err == nil {
		t.Error("two edges with one name")
	}
}
