package sim

import (
	"testing"

	"github.com/cdnsteer/cdnsteer/zones"
)

// policyTOML wraps a policy's [regions], [cdn.*] and [policy.*] tables in
// the zone a policy file needs to be valid.
func policyTOML(body string) string {
	return body + `
[[zone]]
origin = "live.example.com."
ns = ["ns1.live.example.com."]
[[zone.record]]
name = "ns1"
type = "A"
value = "192.0.2.53"
[[zone.steer]]
name = "stream"
policy = "live"
`
}

// twoRegions is a small policy: three CDNs, a region of its own and the
// default. Commits are known to the engine.
const twoRegions = `
[regions]
kr = ["KR"]
default = ["*"]
[cdn.a]
target = "a.example.net."
commit_gbps = 400
[cdn.b]
target = "b.example.net."
commit_gbps = 300
[cdn.c]
target = "c.example.net."
commit_gbps = 200
[policy.live]
ttl = 20
[policy.live.region.kr]
weights = { a = 30, b = 40, c = 30 }
[policy.live.region.default]
weights = { a = 50, b = 25, c = 25 }
`

func mustPolicy(t testing.TB, body string) *zones.Snapshot {
	t.Helper()
	snap, err := zones.Parse("policy.toml", []byte(policyTOML(body)))
	if err != nil {
		t.Fatalf("policy: %v", err)
	}
	return snap
}

func mustScenario(t testing.TB, snap *zones.Snapshot, doc string) *Scenario {
	t.Helper()
	sc, err := ParseScenario("scenario.toml", []byte(doc), snap)
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	return sc
}

func mustRun(t testing.TB, sc *Scenario, observe func(*Step)) *Result {
	t.Helper()
	res, err := Run(sc, observe)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// footballScenario loads the committed football example: its policy and
// its scenario.
func footballScenario(tb testing.TB) *Scenario {
	tb.Helper()
	snap, err := zones.Load("../zones/examples/football.toml")
	if err != nil {
		tb.Fatal(err)
	}
	sc, err := LoadScenario("../zones/examples/football-scenario.toml", snap)
	if err != nil {
		tb.Fatal(err)
	}
	return sc
}
