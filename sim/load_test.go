package sim

import (
	"strings"
	"testing"
	"time"
)

func TestScenarioDefaults(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, `
[audience]
points = [{ at = "0m", viewers = 0 }, { at = "10m", viewers = 1000 }]
`)
	if sc.Policy.Name != "live" || sc.Policy.TTL != 20*time.Second {
		t.Errorf("policy = %q ttl %s", sc.Policy.Name, sc.Policy.TTL)
	}
	if sc.Duration != 10*time.Minute || sc.Step != time.Second || sc.Seed != DefaultSeed || !sc.Start.Equal(DefaultStart) {
		t.Errorf("duration %s step %s seed %d start %s", sc.Duration, sc.Step, sc.Seed, sc.Start)
	}
	// No region mix: everyone is in the default region.
	for _, r := range sc.Regions {
		want := 0.0
		if r.Name == "default" {
			want = 1
		}
		if r.Share != want || r.BitrateMbps != DefaultBitrateMbps || r.Resolvers != DefaultResolvers || r.StretchTTL != DefaultStretchTTL {
			t.Errorf("region %+v", r)
		}
	}
	// Commits come from the policy, ceilings a quarter above.
	if c := sc.CDNs[0]; c.Name != "a" || c.CommitGbps != 400 || c.CeilingGbps != 500 || c.Regions[0].Quality != DefaultQuality() {
		t.Errorf("cdn a = %+v", c)
	}
	if sc.Telemetry.Interval != time.Second || sc.Telemetry.Noise != DefaultNoise {
		t.Errorf("telemetry %+v", sc.Telemetry)
	}
}

func TestScenarioLayersAndNormalises(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, `
duration = "1h"
[audience]
points = [{ at = "0m", viewers = 10 }]
[region.kr]
share = 3
[region.default]
share = 1
bitrate_mbps = 2.5
[quality]
ttfb_ms = 50
[cdn.b]
commit_gbps = 100
[cdn.b.quality]
error_rate = 0.01
[cdn.b.region.kr]
commit_gbps = 40
[cdn.b.region.kr.quality]
cache_hit = 0.9
`)
	kr := sc.Regions[1]
	if kr.Name != "kr" || kr.Share != 0.75 || sc.Regions[0].Share != 0.25 || sc.Regions[0].BitrateMbps != 2.5 || kr.BitrateMbps != DefaultBitrateMbps {
		t.Errorf("regions %+v", sc.Regions)
	}
	b := sc.CDNs[1]
	q := b.Regions[1].Quality
	if b.CommitGbps != 100 || b.Regions[1].CommitGbps != 40 || b.Regions[1].CeilingGbps != 50 || q.TTFBMs != 50 || q.ErrorRate != 0.01 || q.CacheHit != 0.9 {
		t.Errorf("cdn b = %+v, kr quality %+v", b, q)
	}
	if q0 := b.Regions[0].Quality; q0.CacheHit != DefaultQuality().CacheHit || q0.ErrorRate != 0.01 {
		t.Errorf("default-region quality of b = %+v", q0)
	}
}

func TestPhases(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	sc := mustScenario(t, snap, `
[audience]
start_viewers = 100
[[audience.phase]]
name = "pre-show"
duration = "10m"
viewers = 1000
[[audience.phase]]
name = "kick-off"
duration = "10m"
viewers = 2000
rise = "1m"
settle = 1500
[[audience.phase]]
name = "half-time"
duration = "10m"
viewers = 500
[[audience.phase]]
name = "extra time"
duration = "5m"
viewers = 1800
annotate = false
`)
	c := &sc.Curve
	for _, tc := range []struct {
		at   time.Duration
		want float64
	}{
		{0, 100}, {5 * time.Minute, 550}, {10 * time.Minute, 1000}, {11 * time.Minute, 2000}, {20 * time.Minute, 1500},
		{22 * time.Minute, 500}, {28 * time.Minute, 500}, {30 * time.Minute, 1500}, {35 * time.Minute, 1800}, {time.Hour, 1800},
	} {
		if got := c.At(tc.at); got != tc.want {
			t.Errorf("audience at %s = %g, want %g", tc.at, got, tc.want)
		}
	}
	if sc.Duration != 35*time.Minute || c.Peak() != 2000 {
		t.Errorf("duration %s peak %g", sc.Duration, c.Peak())
	}
	var shapes, notes []string
	for _, p := range c.Phases {
		shapes = append(shapes, p.Shape)
	}
	for _, n := range sc.Notes {
		notes = append(notes, n.Text)
	}
	if strings.Join(shapes, ",") != "ramp,spike,dip,surge" || strings.Join(notes, ",") != "pre-show,kick-off,half-time" {
		t.Errorf("shapes %v notes %v", shapes, notes)
	}
}

func TestScenarioErrorsHaveLines(t *testing.T) {
	snap := mustPolicy(t, twoRegions)
	doc := `name = "bad"
colour = "blue"
[audience]
points = [{ at = "0m", viewers = 10 }]
[region.mars]
share = 1
[region.kr]
share = 1
ecs_share = 1.5
[cdn.a]
commit_gbps = 100
ceiling_gbps = 50
[[fault]]
cdn = "zz"
start = "1m"
duration = "1m"
ttfb_add_ms = 100
loudness = 2
[[fault]]
cdn = "a"
start = "1m"
end = "2m"
loudness = 3
[[override]]
action = "reboot"
at = "1m"
duration = "1m"
`
	_, err := ParseScenario("s.toml", []byte(doc), snap)
	if err == nil {
		t.Fatal("a bad scenario parsed")
	}
	for _, want := range []string{
		`s.toml:2: unknown key "colour"`,
		`s.toml:5: region "mars" is not in policy "live"`,
		`s.toml:9: ecs_share = 1.5 is outside 0..1`,
		`s.toml:12: cdn "a": ceiling_gbps 50 is below its commit 100`,
		`s.toml:14: fault 1: unknown cdn "zz"`,
		`s.toml:19: fault 2 changes nothing`,
		`s.toml:18: unknown key "fault.loudness"`,
		`s.toml:25: override 1: unknown action "reboot"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	// A key unknown in every element of an array table is one problem.
	if n := strings.Count(err.Error(), `unknown key "fault.loudness"`); n != 1 {
		t.Errorf("unknown fault.loudness reported %d times:\n%v", n, err)
	}
	if _, err := ParseScenario("s.toml", []byte("[audience\n"), snap); err == nil || !strings.HasPrefix(err.Error(), "s.toml:2:") {
		t.Errorf("syntax error = %v", err)
	}
	if _, err := ParseScenario("s.toml", []byte("seed = \"x\"\n[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n"), snap); err == nil || !strings.HasPrefix(err.Error(), "s.toml:1:") {
		t.Errorf("type error = %v", err)
	}
	// A bare number is nanoseconds to the TOML library: say so rather
	// than simulate five of them.
	if _, err := ParseScenario("s.toml", []byte("duration = 5\n[audience]\npoints = [{ at = \"0m\", viewers = 1 }]\n"), snap); err == nil || !strings.Contains(err.Error(), "s.toml:1: duration 5ns is shorter than one step") {
		t.Errorf("tiny duration = %v", err)
	}
}
