package main

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

const qoeServePolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"

[steering]
listen = "%s"

[[geo.network]]
cidr = "127.0.0.0/8"
region = "kr"

[regions]
kr = ["KR"]
default = ["*"]

[cdn.akamai]
target = "a.cdn.example.net."
[cdn.fastly]
target = "f.cdn.example.net."
pathway = "fy"

[policy.live]
evaluation_interval = "100ms"
[policy.live.region.default]
weights = { akamai = 50, fastly = 50 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// TestCMCDReachesTheEngine posts players' CMCD v2 event reports to a
// running server's steering listener over loopback and finds them, a
// second later, as the CDN's signals in its region in /api/v1/state and
// in the cdnsteer_qoe_* metrics: the receiver is routed, the client's
// region is DNS's (127.0.0.0/8 is kr), the CDN is the one serving the
// report's url, and the collector's windows are pushed to the engine.
func TestCMCDReachesTheEngine(t *testing.T) {
	s := startServe(t, fmt.Sprintf(qoeServePolicy, freeLoopbackPort(t)))
	if s.Steering == "" {
		t.Fatal("no steering listener")
	}
	// Ten sessions on fastly (by the host of their segments' url), three
	// of them starved, one segment in ten refused; one line names no CDN.
	var b strings.Builder
	for i := range 10 {
		rc, starved := 200, ""
		if i == 4 {
			rc = 503
		}
		if i%3 == 0 && i > 0 {
			starved = ",sta=r"
		}
		fmt.Fprintf(&b, "e=rr,rc=%d,sid=\"serve-test-%d\"%s,ts=%d,ttfb=40,url=\"https://f.cdn.example.net/live/seg_%d.ts\",v=2\n", rc, i, starved, time.Now().UnixMilli(), i)
	}
	b.WriteString("e=t,sid=\"nowhere\",v=2\n")
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.Steering+"/qoe/cmcd", strings.NewReader(b.String()))
	req.Header.Set("Content-Type", "application/cmcd")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /qoe/cmcd: %d, want 204", resp.StatusCode)
	}

	var signals map[string]float64
	took := await(t, "fastly's CMCD signals in kr in /api/v1/state", 15*time.Second, func() bool {
		signals = cdnSignals(t, s.HTTP, "", "live", "kr", "fastly")
		_, ok := signals["rebuffer_ratio"]
		return ok
	})
	t.Logf("signals in /api/v1/state %s after the POST: %v", took.Round(time.Millisecond), signals)
	for k, want := range map[string]float64{"rebuffer_ratio": 0.3, "segment_error_rate": 0.1} {
		if v, ok := signals[k]; !ok || math.Abs(v-want) > 0.05 {
			t.Errorf("fastly in kr: %s = %v (%v), want %v", k, v, ok, want)
		}
	}
	if got := cdnSignals(t, s.HTTP, "", "live", "default", "fastly"); len(got) > 0 {
		t.Errorf("fastly in default has CMCD signals %v: the reports came from kr", got)
	}
	if n := metricSum(t, s.HTTP, "cdnsteer_qoe_reports_total", `cdn="fastly"`, `region="kr"`); n != 10 {
		t.Errorf("cdnsteer_qoe_reports_total{cdn=fastly,region=kr} = %v, want 10", n)
	}
	if n := metricSum(t, s.HTTP, "cdnsteer_qoe_unknown_cdn_reports_total", `region="kr"`); n != 1 {
		t.Errorf("cdnsteer_qoe_unknown_cdn_reports_total{region=kr} = %v, want 1", n)
	}
}

// cdnSignals are a CDN's signals in a policy and region, as GET
// /api/v1/state shows them (without "newest"), asked with token if any.
func cdnSignals(t *testing.T, httpAddr, token, policy, region, cdn string) map[string]float64 {
	t.Helper()
	var state struct {
		Policies []struct {
			Name    string
			Regions []struct {
				Name string
				CDNs []struct {
					Name    string
					Signals map[string]any
				}
			}
		}
	}
	if code := apiCall(t, httpAddr, http.MethodGet, "/api/v1/state", token, "", &state); code != http.StatusOK {
		t.Fatalf("GET /api/v1/state: %d", code)
	}
	out := map[string]float64{}
	for _, p := range state.Policies {
		for _, r := range p.Regions {
			for _, c := range r.CDNs {
				if p.Name != policy || r.Name != region || c.Name != cdn {
					continue
				}
				for k, v := range c.Signals {
					if f, ok := v.(float64); ok {
						out[k] = f
					}
				}
			}
		}
	}
	return out
}
