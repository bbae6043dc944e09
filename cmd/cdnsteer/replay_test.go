package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replayPolicy is restartPolicy's two CDNs with a signal log; score is
// the policy's [policy.live.score] table.
const replayPolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"
decision_log = %q
signal_log = %q
admin_token_file = %q

[[geo.network]]
cidr = "10.10.0.0/16"
region = "kr"

[regions]
kr = ["KR"]
default = ["*"]

[cdn.akamai]
target = "akamai.cdn.example.net."
[cdn.fastly]
target = "fastly.cdn.example.net."

[policy.live]
ttl = 5
evaluation_interval = "100ms"
%s
[policy.live.region.default]
weights = { akamai = 50, fastly = 50 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// replayTightTTFB scores on TTFB alone past the errors' gate, full marks
// at 100 ms and none at 400: stricter than the defaults (200 and 1000).
const replayTightTTFB = "[policy.live.score]\nttfb = { weight = 1, good = 100, bad = 400 }\n"

type replaySummary struct {
	Signals      int `json:"signals"`
	Degradations int `json:"degradations"`
	CDNs         []struct {
		Region       string  `json:"region"`
		CDN          string  `json:"cdn"`
		Degradations int     `json:"degradations"`
		LowestShare  float64 `json:"lowest_share"`
	} `json:"cdns"`
}

// TestServeRecordsAndReplays runs the real server with a signal log and
// pushes RUM signals through the API: fastly answers Korea in 450 ms,
// which the policy's default TTFB bounds find acceptable. Replaying the
// recorded log through the same policy decides what the server decided
// (no degradation); through a candidate with a tight TTFB bound, fastly
// is degraded in Korea and loses its share there.
func TestServeRecordsAndReplays(t *testing.T) {
	dir := t.TempDir()
	decisions, signals, token := filepath.Join(dir, "decisions.jsonl"), filepath.Join(dir, "signals.jsonl"), filepath.Join(dir, "admin.token")
	if err := os.WriteFile(token, []byte(restartToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	original := fmt.Sprintf(replayPolicy, decisions, signals, token, "")
	const batches = 15

	t.Run("serve", func(t *testing.T) {
		s := startServe(t, original)
		api := restartAPI{t, s.HTTP}
		for i := range batches {
			// A TTFB of its own per batch tells when the engine has
			// evaluated it, so that each batch arrives at an evaluation
			// of its own, as a beacon stream would.
			ttfb := 450 + i
			now := time.Now().UTC().Format(time.RFC3339Nano)
			api.do("POST", "/api/v1/signals", map[string]any{"signals": []map[string]any{
				{"cdn": "akamai", "ttfb_ms": 150, "error_rate": 0.002, "cache_hit_ratio": 0.97, "samples": 500, "time": now},
				{"cdn": "fastly", "region": "kr", "ttfb_ms": ttfb, "error_rate": 0.004, "cache_hit_ratio": 0.96, "samples": 300, "time": now},
			}}, true, http.StatusAccepted, nil)
			await(t, fmt.Sprintf("batch %d evaluated", i), 10*time.Second, func() bool {
				return stateTTFB(t, s.HTTP, "kr", "fastly") == float64(ttfb)
			})
		}
	})
	if t.Failed() {
		return
	}
	raw, err := os.ReadFile(signals)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(raw, []byte("\n")); n != 2*batches || !bytes.Contains(raw, []byte(`"cdn":"fastly","region":"kr","source":"push","samples":300,"values":{"ttfb_ms":464,"error_rate":0.004,"cache_hit_ratio":0.96}`)) {
		t.Fatalf("signal log of %d lines, want %d with the last push:\n%s", n, 2*batches, raw)
	}
	if served, _ := os.ReadFile(decisions); bytes.Contains(served, []byte(`"to":"degraded"`)) {
		t.Fatalf("the server degraded a CDN on signals its policy finds acceptable:\n%s", served)
	}

	replay := func(policy string) replaySummary {
		t.Helper()
		path := filepath.Join(t.TempDir(), "candidate.toml")
		if err := os.WriteFile(path, []byte(policy), 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "replay")
		var stdout, stderr bytes.Buffer
		if code := run([]string{"simulate", "-replay", signals, "-config", path, "-o", out}, &stdout, &stderr); code != 0 {
			t.Fatalf("simulate -replay = %d: %s", code, stderr.String())
		}
		if !strings.Contains(stdout.String(), fmt.Sprintf("replayed %d signals", 2*batches)) {
			t.Errorf("output: %s", stdout.String())
		}
		b, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s replaySummary
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	kr := func(s replaySummary) (degradations int, lowest float64) {
		for _, c := range s.CDNs {
			if c.Region == "kr" && c.CDN == "fastly" {
				return c.Degradations, c.LowestShare
			}
		}
		t.Fatalf("no kr/fastly in %+v", s)
		return 0, 0
	}
	same := replay(original)
	if d, low := kr(same); same.Degradations != 0 || d != 0 || low < 0.4 {
		t.Errorf("replayed through the same policy: %d degradations, fastly in kr lowest share %v; want none and about half, as served", same.Degradations, low)
	}
	cand := replay(fmt.Sprintf(replayPolicy, decisions, signals, token, replayTightTTFB))
	if d, low := kr(cand); d != 1 || low != 0 {
		t.Errorf("replayed through the tight candidate: fastly in kr degraded %d times, lowest share %v; want degraded once, share 0", d, low)
	}
}

// stateTTFB is the TTFB the engine last scored cdn on in region (-1 when
// none).
func stateTTFB(t *testing.T, base, region, cdn string) float64 {
	var st struct {
		Policies []struct {
			Regions []struct {
				Name string `json:"name"`
				CDNs []struct {
					Name    string         `json:"name"`
					Signals map[string]any `json:"signals"`
				} `json:"cdns"`
			} `json:"regions"`
		} `json:"policies"`
	}
	apiCall(t, base, "GET", "/api/v1/state", restartToken, "", &st)
	for _, p := range st.Policies {
		for _, r := range p.Regions {
			for _, c := range r.CDNs {
				if r.Name == region && c.Name == cdn {
					if v, ok := c.Signals["ttfb_ms"].(float64); ok {
						return v
					}
				}
			}
		}
	}
	return -1
}

// TestSimulateReplayErrors: the flags a replay does not take, and a log
// from another policy, named at its FILE:LINE.
func TestSimulateReplayErrors(t *testing.T) {
	log := filepath.Join(t.TempDir(), "signals.jsonl")
	os.WriteFile(log, []byte(`{"time":"2026-06-14T19:00:00Z","cdn":"limelight","values":{"ttfb_ms":100}}`+"\n"), 0o644)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-replay", log, "-config", "../../zones/examples/football.toml", "-scenario", "x.toml", "-o", t.TempDir()}, 2,
			"cdnsteer simulate: -scenario does not go with -replay: a replay feeds recorded signals, with no audience or scenario\n"},
		{[]string{"-replay", log, "-o", t.TempDir()}, 2, "cdnsteer simulate: -replay needs -config FILE (the candidate policy) and -o DIR\n"},
		{[]string{"-replay", log, "-config", "../../zones/examples/football.toml", "-o", t.TempDir()}, 1,
			log + `:1: cdn "limelight" is not in the policy (its CDNs: akamai, cloudfront, edgio, fastly)` + "\n"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		if code := run(append([]string{"simulate"}, tc.args...), &out, &errOut); code != tc.code || errOut.String() != tc.want {
			t.Errorf("simulate %v = %d: %q\nwant %d: %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}
