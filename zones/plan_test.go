package zones

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// planBase is base with a region of its own, so that plans can name one.
const planBase = `[regions]
kr = ["KR"]
` + base

const goodPlan = `[[plan]]
name = "a-out"
description = "a is down"
ttl = "2h"
overrides = [ { action = "drain", cdn = "a" }, { action = "pin", cdn = "b", region = "kr", policy = "p" } ]
`

func TestPlanAndScheduleErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"unknown cdn", planBase + "[[plan]]\nname = \"x\"\noverrides = [ { action = \"drain\", cdn = \"akamia\" } ]\n" + zoneHead,
			[]string{`bad.toml:11: plan "x": overrides[0].cdn: unknown cdn "akamia"`}},
		{"unknown region, second override", planBase + "[[plan]]\nname = \"x\"\noverrides = [\n  { action = \"drain\", cdn = \"a\" },\n  { action = \"drain\", cdn = \"a\", region = \"mars\" },\n]\n" + zoneHead,
			[]string{`bad.toml:11: plan "x": overrides[1].region: unknown region "mars"`}},
		{"unknown policy", planBase + "[[plan]]\nname = \"x\"\noverrides = [ { action = \"freeze\", policy = \"q\" } ]\n" + zoneHead,
			[]string{`bad.toml:11: plan "x": overrides[0].policy: unknown policy "q"`}},
		{"unknown action", planBase + "[[plan]]\nname = \"x\"\noverrides = [ { action = \"nuke\", cdn = \"a\" } ]\n" + zoneHead,
			[]string{`bad.toml:11: plan "x": overrides[0].action: unknown action "nuke" (drain, pin, freeze)`}},
		{"unknown override key", planBase + "[[plan]]\nname = \"x\"\noverrides = [ { action = \"drain\", cdn = \"a\", ttl = \"1h\" } ]\n" + zoneHead,
			[]string{`bad.toml:11: unknown key "plan.overrides.ttl"`}},
		{"no overrides", planBase + "[[plan]]\nname = \"x\"\n" + zoneHead,
			[]string{`bad.toml:9: plan "x": a plan needs at least one override (overrides = [ { action = "drain", cdn = "…" } ])`}},
		{"plan twice and bad ttl", planBase + goodPlan + "[[plan]]\nname = \"a-out\"\nttl = \"-1h\"\noverrides = [ { action = \"drain\", cdn = \"a\" } ]\n" + zoneHead,
			[]string{`bad.toml:15: plan "a-out" is defined twice`, `bad.toml:16: plan "a-out": ttl -1h0m0s is outside 1s..168h0m0s`}},
		{"end before start", planBase + goodPlan + "[[schedule]]\nname = \"match\"\nstart = \"2026-06-14T11:00:00Z\"\nend = \"2026-06-14T10:00:00Z\"\nttl = 10\n" + zoneHead,
			[]string{`bad.toml:17: schedule "match": end 2026-06-14T10:00:00Z is not after start 2026-06-14T11:00:00Z`}},
		{"unknown plan", planBase + goodPlan + "[[schedule]]\nname = \"match\"\nstart = \"2026-06-14T11:00:00Z\"\nend = \"2026-06-14T13:00:00Z\"\nplan = \"b-out\"\n" + zoneHead,
			[]string{`bad.toml:18: schedule "match": plan "b-out" is not defined in a [[plan]]`}},
		{"no offset", planBase + "[[schedule]]\nname = \"match\"\nstart = \"2026-06-14T11:00:00\"\nend = \"2026-06-14T13:00:00Z\"\nttl = 10\n" + zoneHead,
			[]string{`bad.toml:11: schedule "match": start "2026-06-14T11:00:00" is not an RFC 3339 time with an offset, such as 2026-06-14T11:00:00Z`}},
		{"nothing to do", planBase + "[[schedule]]\nname = \"match\"\nstart = \"2026-06-14T11:00:00Z\"\nend = \"2026-06-14T13:00:00Z\"\n" + zoneHead,
			[]string{`bad.toml:9: schedule "match": a schedule needs a ttl, a plan or both`}},
		{"schedule ttl", planBase + "[[schedule]]\nname = \"match\"\nstart = \"2026-06-14T11:00:00Z\"\nend = \"2026-06-14T13:00:00Z\"\nttl = 0\n" + zoneHead,
			[]string{`bad.toml:13: schedule "match": ttl 0 is outside 1..86400`}},
		{"ttl_in_flux above ttl", planBase + "[policy.p]\nttl = 20\nttl_in_flux = 30\n" + zoneHead,
			[]string{`bad.toml:11: policy "p": ttl_in_flux 30 is outside 1..20 (the policy's ttl)`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tc.doc))
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestScheduleWarnings(t *testing.T) {
	defer func(c func() time.Time) { scheduleClock = c }(scheduleClock)
	scheduleClock = func() time.Time { return time.Date(2026, 6, 14, 12, 0, 0, 0, time.UTC) }
	cases := []struct {
		name      string
		schedules string
		want      []string
	}{
		{"future, apart", "[[schedule]]\nname = \"m1\"\nstart = \"2026-06-14T13:00:00Z\"\nend = \"2026-06-14T15:00:00Z\"\nttl = 10\n" +
			"[[schedule]]\nname = \"m2\"\nstart = \"2026-06-14T15:00:00Z\"\nend = \"2026-06-14T17:00:00Z\"\nplan = \"a-out\"\n", nil},
		{"in the past", "[[schedule]]\nname = \"old\"\nstart = \"2026-06-14T09:00:00Z\"\nend = \"2026-06-14T11:00:00+00:00\"\nttl = 10\n",
			[]string{`line 14: schedule "old" ended at 2026-06-14T11:00:00Z: its window is entirely in the past`}},
		{"in force now is not past", "[[schedule]]\nname = \"now\"\nstart = \"2026-06-14T11:00:00Z\"\nend = \"2026-06-14T12:00:01Z\"\nttl = 10\n", nil},
		{"overlap", "[[schedule]]\nname = \"m1\"\nstart = \"2026-06-14T13:00:00Z\"\nend = \"2026-06-14T15:00:00Z\"\nttl = 10\n" +
			"[[schedule]]\nname = \"m2\"\nstart = \"2026-06-14T16:00:00+02:00\"\nend = \"2026-06-14T17:00:00Z\"\nplan = \"a-out\"\n",
			[]string{`line 19: schedule "m2" overlaps schedule "m1" (line 14): both are in force from 2026-06-14T14:00:00Z`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("ok.toml", []byte(planBase+goodPlan+tc.schedules+zoneHead))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range s.Warnings {
				if strings.Contains(w, "schedule") {
					got = append(got, w)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestPlansReachTheEngine(t *testing.T) {
	s, err := Parse("ok.toml", []byte(planBase+"[policy.p]\nttl = 30\nttl_in_flux = 5\n"+goodPlan+
		"[[schedule]]\nname = \"match\"\nstart = \"2026-06-14T11:00:00Z\"\nend = \"2026-06-14T13:00:00Z\"\nttl = 10\nplan = \"a-out\"\n"+zoneHead))
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Health()
	if len(cfg.Plans) != 1 || cfg.Plans[0].TTL != 2*time.Hour || len(cfg.Plans[0].Overrides) != 2 || cfg.Plans[0].Overrides[1].Region != "kr" {
		t.Errorf("plans: %+v", cfg.Plans)
	}
	if len(cfg.Schedules) != 1 || cfg.Schedules[0].TTL != 10*time.Second || cfg.Schedules[0].Plan != "a-out" ||
		!cfg.Schedules[0].Start.Equal(time.Date(2026, 6, 14, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("schedules: %+v", cfg.Schedules)
	}
	if cfg.Policies[0].TTLInFlux != 5*time.Second || s.Policies[0].TTLInFlux != 5 {
		t.Errorf("ttl_in_flux: %v", cfg.Policies[0].TTLInFlux)
	}
	// Without a ttl, an activation lasts an hour.
	s, err = Parse("ok.toml", []byte(planBase+"[[plan]]\nname = \"x\"\noverrides = [ { action = \"freeze\" } ]\n"+zoneHead))
	if err != nil || s.Plans[0].TTL != DefaultPlanTTL {
		t.Errorf("default ttl: %v %+v", err, s)
	}
}
