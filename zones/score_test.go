package zones

import (
	"strings"
	"testing"

	"github.com/cdnsteer/cdnsteer/health"
)

const scorePolicy = `[[zone]]
origin = "z.example."
ns = ["ns1.z.example."]
hostmaster = "h.z.example."
[[zone.record]]
name = "ns1"
type = "A"
value = "192.0.2.1"
[[zone.steer]]
name = "s"
policy = "p"
[cdn.a]
target = "a.cdn.example."
[regions]
default = ["*"]
[policy.p.region.default.weights]
a = 1
`

// [policy.NAME.score] takes the kinds table's score keys; a key of no
// kind is unknown, as any key no field takes, and a bound that is not a
// number is named at its line without hiding the file's other problems.
func TestScoreKeys(t *testing.T) {
	snap, err := Parse("ok.toml", []byte(scorePolicy+"[policy.p.score]\nttfb = { weight = 1, good = 100 }\ndownload = { weight = 0.5, good = 30, bad = 3 }\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := snap.Health().Policies[0].Params
	want := health.DefaultParams()
	want.Score[health.TTFB].Weight, want.Score[health.TTFB].Good = 1, 100
	want.Score[health.Download] = health.Bounds{Weight: 0.5, Good: 30, Bad: 3}
	if p.Score != want.Score {
		t.Errorf("score %+v, want %+v", p.Score, want.Score)
	}

	_, err = Parse("bad.toml", []byte(scorePolicy+"[policy.p.score.foo]\nweight = 1\n[policy.p.score]\nbar = 3\nttfb = { weight = \"x\", good = 1, bad = 2, x = 3 }\ncache_hit = 4\n[server]\ndnss = 1\n"))
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, line := range []string{
		`bad.toml:18: unknown key "policy.p.score.foo"`,
		`bad.toml:19: unknown key "policy.p.score.foo.weight"`,
		`bad.toml:21: unknown key "policy.p.score.bar"`,
		`bad.toml:22: policy "p": score.ttfb.weight must be a number`,
		`bad.toml:22: unknown key "policy.p.score.ttfb.x"`,
		`bad.toml:23: policy "p": score.cache_hit must be a table {weight, good, bad}`,
		`bad.toml:25: unknown key "server.dnss"`,
	} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, got)
		}
	}
}
