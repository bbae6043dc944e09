package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// withPlans gives the fixture's engine two plans and a schedule, then
// reloads it with a policy that has lost limelight, which "limelight-out"
// still names.
func withPlans(f *fixture) {
	cfg := testHealthConfig()
	cfg.Plans = []health.Plan{
		{Name: "akamai-kr-out", Description: "Akamai KR down", TTL: time.Hour, Overrides: []health.Override{
			{Action: health.ActionDrain, CDN: "akamai", Region: "kr"},
			{Action: health.ActionPin, CDN: "cloudfront", Region: "kr"},
		}},
		{Name: "limelight-out", TTL: time.Hour, Overrides: []health.Override{
			{Action: health.ActionDrain, CDN: "fastly", Region: "kr"},
			{Action: health.ActionDrain, CDN: "limelight"},
		}},
	}
	cfg.Schedules = []health.Schedule{{Name: "match", Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour), TTL: 10 * time.Second}}
	f.engine.SetConfig(cfg, t0)
	f.engine.Evaluate(t0)
}

type plansList struct {
	Plans     []health.PlanView
	Schedules []health.ScheduleView
	Events    []health.PlanEvent
}

func (f *fixture) plans() plansList {
	f.t.Helper()
	r := f.get("/api/v1/plans")
	if r.code != http.StatusOK {
		f.t.Fatalf("GET /api/v1/plans: %d %s", r.code, r.body)
	}
	var l plansList
	if err := json.Unmarshal(r.body, &l); err != nil {
		f.t.Fatal(err)
	}
	return l
}

func TestPlanLifecycle(t *testing.T) {
	f := newFixture(t)
	withPlans(f)
	l := f.plans()
	if len(l.Plans) != 2 || l.Plans[0].Name != "akamai-kr-out" || l.Plans[0].Active || len(l.Plans[0].Overrides) != 2 || l.Plans[0].TTL != "1h0m0s" {
		t.Fatalf("plans before activation: %+v", l.Plans)
	}
	if len(l.Schedules) != 1 || l.Schedules[0].State != "upcoming" || !l.Schedules[0].Next || l.Schedules[0].TTL != 10 {
		t.Errorf("schedules: %+v", l.Schedules)
	}

	r := f.write("POST", "/api/v1/plans/akamai-kr-out/activate", `{"reason": "KR PoPs failing", "ttl": "30m", "by": "mina"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("activate: %d %s", r.code, r.body)
	}
	var ans struct {
		Plan, Activation string
		IDs              []string
	}
	if err := json.Unmarshal(r.body, &ans); err != nil || len(ans.IDs) != 2 || ans.Plan != "akamai-kr-out" || ans.Activation == "" {
		t.Fatalf("activation answer: %v %s", err, r.body)
	}
	ovs := f.overrides()
	if len(ovs) != 2 || ovs[0].ID != ans.IDs[0] || ovs[1].ID != ans.IDs[1] || !ovs[0].Expires.Equal(t0.Add(30*time.Minute)) || ovs[0].Reason != "KR PoPs failing" {
		t.Errorf("overrides after activation: %+v", ovs)
	}
	if s := f.status("kr", "akamai"); s != health.Drained {
		t.Errorf("akamai in kr: %s", s)
	}
	l = f.plans()
	p := l.Plans[0]
	if !p.Active || len(p.Activations) != 1 || p.Activations[0].By != testWriter+" (mina)" || p.Activations[0].Reason != "KR PoPs failing" ||
		!p.Activations[0].Until.Equal(t0.Add(30*time.Minute)) || strings.Join(p.Activations[0].Overrides, ",") != strings.Join(ans.IDs, ",") {
		t.Errorf("plan after activation: %+v", p)
	}
	if len(l.Events) != 1 || l.Events[0].Kind != health.DecisionPlan || l.Events[0].Plan != "akamai-kr-out" {
		t.Errorf("events: %+v", l.Events)
	}
	if n := len(f.journal.kind(health.DecisionPlan)); n != 1 {
		t.Errorf("%d plan decisions logged", n)
	}

	// Without a body: the plan's own TTL, and the token's name as who.
	f.clock.t = t0.Add(time.Minute)
	r = f.write("POST", "/api/v1/plans/akamai-kr-out/activate", "")
	if r.code != http.StatusCreated {
		t.Fatalf("activate without a body: %d %s", r.code, r.body)
	}
	if p := f.plans().Plans[0]; len(p.Activations) != 2 || p.Activations[1].By != testWriter || !p.Activations[1].Until.Equal(t0.Add(61*time.Minute)) {
		t.Errorf("second activation: %+v", p.Activations)
	}

	r = f.write("DELETE", "/api/v1/plans/akamai-kr-out?reason=PoPs+back", "")
	if r.code != http.StatusOK {
		t.Fatalf("end: %d %s", r.code, r.body)
	}
	if ended, _ := r.json(t)["ended"].([]any); len(ended) != 4 {
		t.Errorf("ended: %s", r.body)
	}
	if len(f.overrides()) != 0 || f.plans().Plans[0].Active {
		t.Errorf("overrides after the end: %+v", f.overrides())
	}
	if ends := f.journal.kind(health.DecisionPlanEnd); len(ends) != 1 || !strings.Contains(ends[0].Reason, "PoPs back") {
		t.Errorf("plan_end logged: %+v", ends)
	}
	if r := f.write("DELETE", "/api/v1/plans/akamai-kr-out", ""); r.code != http.StatusOK {
		t.Errorf("ending a plan not in force: %d %s", r.code, r.body)
	}
}

func TestPlanBadRequests(t *testing.T) {
	f := newFixture(t)
	withPlans(f)
	before := f.state()
	cases := []struct {
		name, method, path, body, token string
		code                            int
		field                           string
	}{
		{"no token", "POST", "/api/v1/plans/akamai-kr-out/activate", "", "", http.StatusUnauthorized, ""},
		{"wrong token", "DELETE", "/api/v1/plans/akamai-kr-out", "", "nope", http.StatusUnauthorized, ""},
		{"unknown plan", "POST", "/api/v1/plans/edgio-out/activate", `{"reason": "x"}`, testToken, http.StatusNotFound, "name"},
		{"end unknown plan", "DELETE", "/api/v1/plans/edgio-out", "", testToken, http.StatusNotFound, "name"},
		{"no longer valid", "POST", "/api/v1/plans/limelight-out/activate", `{"reason": "x"}`, testToken, http.StatusConflict, "overrides[1].cdn"},
		{"bad ttl", "POST", "/api/v1/plans/akamai-kr-out/activate", `{"ttl": "soon"}`, testToken, http.StatusBadRequest, "ttl"},
		{"ttl too long", "POST", "/api/v1/plans/akamai-kr-out/activate", `{"ttl": "800h"}`, testToken, http.StatusBadRequest, "ttl"},
		{"unknown field", "POST", "/api/v1/plans/akamai-kr-out/activate", `{"reasn": "x"}`, testToken, http.StatusBadRequest, "reasn"},
		{"long reason", "POST", "/api/v1/plans/akamai-kr-out/activate", `{"reason": "` + strings.Repeat("x", 1001) + `"}`, testToken, http.StatusBadRequest, "reason"},
		{"query parameter", "POST", "/api/v1/plans/akamai-kr-out/activate?ttl=1h", "", testToken, http.StatusBadRequest, "ttl"},
		{"bad since", "GET", "/api/v1/plans?since=yesterday", "", testReadToken, http.StatusBadRequest, "since"},
		{"read token", "POST", "/api/v1/plans/akamai-kr-out/activate", "", testReadToken, http.StatusForbidden, ""},
		{"wrong method", "PUT", "/api/v1/plans/akamai-kr-out", "", testToken, http.StatusMethodNotAllowed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expectError(t, f.do(tc.method, tc.path, tc.body, tc.token), tc.code, tc.field)
			f.unchanged(before)
		})
	}
}
