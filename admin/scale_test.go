package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// manyPolicies is the test configuration with n policies, p000 … .
func manyPolicies(n int) health.Config {
	cfg := testHealthConfig()
	base := cfg.Policies[0]
	cfg.Policies = nil
	for i := range n {
		p := base
		p.Name = fmt.Sprintf("p%03d", i)
		cfg.Policies = append(cfg.Policies, p)
	}
	return cfg
}

type statePageJSON struct {
	Policies    []struct{ Name string }
	PolicyNames []string `json:"policy_names"`
	Next        string
}

// GET /api/v1/state is bounded: a page of at most 20 policies, one
// policy with policy=, every name in policy_names (issue 22: 16.6 MB a
// poll of the live view with 1,000 policies).
func TestStatePages(t *testing.T) {
	f := newFixture(t, func(c *Config) {
		c.Engine = health.NewEngine(manyPolicies(250), nil)
		c.Engine.Evaluate(t0)
	})
	get := func(path string) statePageJSON {
		t.Helper()
		r := f.get(path)
		if r.code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.code, r.body)
		}
		var s statePageJSON
		if err := json.Unmarshal(r.body, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.PolicyNames) != 250 || s.PolicyNames[249] != "p249" {
			t.Fatalf("%s: %d policy names", path, len(s.PolicyNames))
		}
		return s
	}
	var seen []string
	next := ""
	for pages := 0; ; pages++ {
		path := "/api/v1/state"
		if next != "" {
			path += "?after=" + next
		}
		s := get(path)
		if len(s.Policies) > maxStatePage {
			t.Fatalf("%s: %d policies, want at most %d", path, len(s.Policies), maxStatePage)
		}
		for _, p := range s.Policies {
			seen = append(seen, p.Name)
		}
		if next = s.Next; next == "" {
			break
		}
		if pages > 20 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 250 || seen[0] != "p000" || seen[249] != "p249" {
		t.Errorf("pages gave %d policies, %v … %v", len(seen), seen[:1], seen[len(seen)-1:])
	}
	if s := get("/api/v1/state?policy=p123"); len(s.Policies) != 1 || s.Policies[0].Name != "p123" || s.Next != "" {
		t.Errorf("policy=p123: %+v", s.Policies)
	}
	if s := get("/api/v1/state?limit=10&after=p239"); len(s.Policies) != 10 || s.Policies[0].Name != "p240" || s.Next != "" {
		t.Errorf("the last 10: %+v, next %q", s.Policies, s.Next)
	}
	expectError(t, f.get("/api/v1/state?policy=nope"), http.StatusBadRequest, "policy")
	expectError(t, f.get("/api/v1/state?policy=p001&limit=3"), http.StatusBadRequest, "policy")
	expectError(t, f.get("/api/v1/state?limit=21"), http.StatusBadRequest, "limit")
	expectError(t, f.get("/api/v1/state?limit=0"), http.StatusBadRequest, "limit")
	expectError(t, f.get("/api/v1/state?after=nope"), http.StatusBadRequest, "after")
}

// The history keeps at most its point budget however many series there
// are, by sampling further apart, and answers one policy's series with
// policy=.
func TestHistoryBudget(t *testing.T) {
	h := NewHistory(time.Minute, time.Second)
	h.maxPoints = 600                           // 10 points a second for the window
	e := health.NewEngine(manyPolicies(5), nil) // 40 points a sample
	e.Evaluate(t0)
	for i := range 600 {
		at := t0.Add(time.Duration(i) * time.Second)
		if h.due(at) {
			h.Record(e.View(at))
		}
	}
	points := 0
	for i := range h.n {
		points += len(h.at(i).points)
	}
	if points > h.maxPoints {
		t.Errorf("%d points kept, budget %d", points, h.maxPoints)
	}
	all := h.since(time.Time{}, "")
	if all.IntervalMs != 5000 || len(all.Times) < 12 {
		t.Errorf("interval %d ms, %d samples: want a sample every 5 s (13 of 40 points within 600), 13 in the minute", all.IntervalMs, len(all.Times))
	}
	one := h.since(time.Time{}, "p002")
	if len(one.Series) != 8 || len(one.Regions) != 2 || one.Series[0].Policy != "p002" || len(one.Times) != len(all.Times) {
		t.Errorf("policy=p002: %d series, %d regions, %d samples", len(one.Series), len(one.Regions), len(one.Times))
	}

	f := newFixture(t, func(c *Config) { c.Engine, c.History = e, h })
	r := f.get("/api/v1/history?policy=p004")
	var got historyJSON
	if r.code != http.StatusOK || json.Unmarshal(r.body, &got) != nil || len(got.Series) != 8 || got.Series[0].Policy != "p004" {
		t.Errorf("GET ?policy=p004: %d %.200s", r.code, r.body)
	}
	expectError(t, f.get("/api/v1/history?policy=nope"), http.StatusBadRequest, "policy")
}
