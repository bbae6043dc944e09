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

// restartToken is the admin bearer token of the restart test.
const restartToken = "restart-test-token-7f3a"

// restartPolicy serves two CDNs at 50/50 everywhere; 10.10.0.0/16 is
// region kr. The decision log and the token file are absolute paths so
// that two runs of the server, each with a policy in its own folder,
// share them.
const restartPolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"
decision_log = %q
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
[policy.live.region.default]
weights = { akamai = 50, fastly = 50 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// restartAPI talks to one run's HTTP endpoint.
type restartAPI struct {
	t    *testing.T
	base string
}

// do sends a request (with the bearer token when auth is set) and decodes
// a JSON answer into out; it fails the test unless the status is want.
func (a restartAPI) do(method, path string, body any, auth bool, want int, out any) {
	a.t.Helper()
	var doc []byte
	if body != nil {
		var err error
		if doc, err = json.Marshal(body); err != nil {
			a.t.Fatal(err)
		}
	}
	// Reads need a token too: the write token reads.
	token := ""
	if auth || method == "GET" {
		token = restartToken
	}
	if got := apiCall(a.t, a.base, method, path, token, string(doc), out); got != want {
		a.t.Fatalf("%s %s = %d, want %d", method, path, got, want)
	}
}

type restartOverride struct {
	ID      string    `json:"id"`
	Action  string    `json:"action"`
	Region  string    `json:"region"`
	CDN     string    `json:"cdn"`
	Reason  string    `json:"reason"`
	Expires time.Time `json:"expires"`
}

type restartNote struct {
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Text string    `json:"text"`
	Tags []string  `json:"tags"`
}

type restartExplain struct {
	Region    string            `json:"region"`
	CDN       string            `json:"cdn"`
	Target    string            `json:"target"`
	Overrides []restartOverride `json:"overrides"`
}

// TestRestartKeepsOverridesAndAnnotations runs the server, pins region kr
// to fastly and adds an annotation through the API, stops it, starts it
// again on the same decision log, and checks that both came back and that
// the pin still steers: the explain endpoint and the DNS answers of KR
// subnets say fastly. The override's ID, reason and expiry must survive
// unchanged, so that an operator can still delete it by the ID they were
// given.
func TestRestartKeepsOverridesAndAnnotations(t *testing.T) {
	shared := t.TempDir()
	logPath := filepath.Join(shared, "decisions.jsonl")
	tokenPath := filepath.Join(shared, "admin.token")
	if err := os.WriteFile(tokenPath, []byte(restartToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(restartPolicy, logPath, tokenPath)
	const subnets = 64

	var pinned restartOverride
	var note restartNote
	t.Run("first run", func(t *testing.T) {
		// startServe stops the server when this subtest ends, before the
		// second run starts.
		s := startServe(t, policy)
		api := restartAPI{t, s.HTTP}

		before := cdnSpread(t, s.DNS[0], subnets, krSubnet)
		if before["akamai"] == 0 || before["fastly"] == 0 {
			t.Fatalf("before the pin, %d KR subnets got %v: want both CDNs, or the pin cannot be seen", subnets, before)
		}

		api.do("POST", "/api/v1/overrides", map[string]string{"action": "pin", "region": "kr", "cdn": "fastly", "ttl": "1h", "reason": "restart test: akamai KR PoP issue"}, false, http.StatusUnauthorized, nil)
		api.do("POST", "/api/v1/overrides", map[string]string{"action": "pin", "region": "kr", "cdn": "fastly", "ttl": "1h", "reason": "restart test: akamai KR PoP issue"}, true, http.StatusCreated, &pinned)
		if pinned.ID == "" || pinned.Action != "pin" || pinned.Region != "kr" || pinned.CDN != "fastly" {
			t.Fatalf("POST /api/v1/overrides answered %+v", pinned)
		}
		api.do("POST", "/api/v1/annotations", map[string]any{"text": "kick-off", "tags": []string{"match", "restart-test"}}, true, http.StatusCreated, &note)
		if note.ID == "" || note.Time.IsZero() {
			t.Fatalf("POST /api/v1/annotations answered %+v", note)
		}

		await(t, "every KR subnet on fastly after the pin", 10*time.Second, func() bool {
			return cdnSpread(t, s.DNS[0], subnets, krSubnet)["fastly"] == subnets
		})
	})
	if t.Failed() {
		return
	}

	// The first run is stopped and its decision log closed: what it
	// recorded is all the second run has.
	raw, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("decision log after the first run: %v", err)
	}
	for _, want := range []string{pinned.ID, note.ID} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("decision log lacks %s after the first run:\n%s", want, raw)
		}
	}

	t.Run("second run", func(t *testing.T) {
		s := startServe(t, policy)
		api := restartAPI{t, s.HTTP}

		var overrides struct {
			Overrides []restartOverride `json:"overrides"`
		}
		api.do("GET", "/api/v1/overrides", nil, false, http.StatusOK, &overrides)
		if len(overrides.Overrides) != 1 {
			t.Fatalf("after the restart GET /api/v1/overrides = %+v, want the one pin", overrides.Overrides)
		}
		got := overrides.Overrides[0]
		if got.ID != pinned.ID || got.Action != "pin" || got.Region != "kr" || got.CDN != "fastly" || got.Reason != pinned.Reason || !got.Expires.Equal(pinned.Expires) {
			t.Errorf("restored override = %+v, want %+v", got, pinned)
		}

		var notes struct {
			Annotations []restartNote `json:"annotations"`
		}
		api.do("GET", "/api/v1/annotations", nil, false, http.StatusOK, &notes)
		found := false
		for _, n := range notes.Annotations {
			if n.ID == note.ID {
				found = true
				if n.Text != "kick-off" || strings.Join(n.Tags, ",") != "match,restart-test" || !n.Time.Equal(note.Time) {
					t.Errorf("restored annotation = %+v, want %+v", n, note)
				}
			}
		}
		if !found {
			t.Errorf("after the restart GET /api/v1/annotations = %+v, want annotation %s", notes.Annotations, note.ID)
		}

		var ex restartExplain
		api.do("GET", "/api/v1/explain?name=stream.live.example.com&client=127.0.0.1&ecs=10.10.7.0/24", nil, false, http.StatusOK, &ex)
		if ex.Region != "kr" || ex.CDN != "fastly" || len(ex.Overrides) != 1 || ex.Overrides[0].ID != pinned.ID {
			t.Errorf("explain for a KR client after the restart = %+v, want region kr, cdn fastly, the pin %s in force", ex, pinned.ID)
		}

		// The first evaluation after a restart already has the pin: no
		// KR subnet may be answered akamai, not even briefly.
		if got := cdnSpread(t, s.DNS[0], subnets, krSubnet); got["fastly"] != subnets {
			t.Errorf("after the restart %d KR subnets got %v, want all on fastly (pinned)", subnets, got)
		}

		// The restored pin is the same override: deleting it by the ID
		// given before the restart works, and the split comes back.
		api.do("DELETE", "/api/v1/overrides/"+pinned.ID, nil, true, http.StatusNoContent, nil)
		await(t, "KR subnets on both CDNs after deleting the pin", 10*time.Second, func() bool {
			c := cdnSpread(t, s.DNS[0], subnets, krSubnet)
			return c["akamai"] > 0 && c["fastly"] > 0
		})
	})

	raw, err = os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"kind":"restore"`)) {
		t.Errorf("decision log has no restore entry after the second run:\n%s", raw)
	}
}
