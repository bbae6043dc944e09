package health

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// planConfig is testConfig with a plan for Akamai's Korean PoPs, a broken
// plan (its second override names a CDN the policy lost in a reload), a
// match window 19:30–22:15 with TTL 10 and the plan, and ttl_in_flux 5.
func planConfig() Config {
	cfg := testConfig()
	cfg.Policies[0].TTL = 20 * time.Second
	cfg.Policies[0].TTLInFlux = 5 * time.Second
	cfg.Plans = []Plan{
		{Name: "akamai-kr-out", Description: "Akamai KR down", TTL: time.Hour, Overrides: []Override{
			{Action: ActionDrain, CDN: "akamai", Region: "kr"},
			{Action: ActionPin, CDN: "cloudfront", Region: "kr", Policy: "live"},
		}},
		{Name: "gone", TTL: time.Hour, Overrides: []Override{
			{Action: ActionDrain, CDN: "fastly"},
			{Action: ActionDrain, CDN: "limelight"},
		}},
	}
	cfg.Schedules = []Schedule{{Name: "match", Start: t0.Add(30 * time.Minute), End: t0.Add(3*time.Hour + 15*time.Minute), TTL: 10 * time.Second, Plan: "akamai-kr-out"}}
	return cfg
}

func TestActivatePlanAllOrNothing(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(planConfig(), j)
	_, err := e.ActivatePlan("gone", Activation{Reason: "test"}, t0)
	var pe *PlanError
	if !errors.As(err, &pe) || pe.Index != 1 || pe.Key() != "overrides[1].cdn" {
		t.Fatalf("activating a plan naming an unknown CDN: %v", err)
	}
	if n := len(e.Overrides(t0)); n != 0 {
		t.Errorf("%d overrides in force after a refused activation, want none", n)
	}
	if _, err := e.ActivatePlan("nope", Activation{Reason: "x"}, t0); !errors.Is(err, ErrNoPlan) {
		t.Errorf("unknown plan: %v", err)
	}
	if _, err := e.EndPlan("nope", "x", t0); !errors.Is(err, ErrNoPlan) {
		t.Errorf("ending an unknown plan: %v", err)
	}

	made, err := e.ActivatePlan("akamai-kr-out", Activation{Reason: "PoP alarms", By: "mina"}, t0)
	if err != nil || len(made) != 2 {
		t.Fatalf("activate: %v %+v", err, made)
	}
	for _, o := range made {
		if o.ID == "" || o.Plan == nil || o.Plan.Name != "akamai-kr-out" || o.Plan.By != "mina" || !o.Expires.Equal(t0.Add(time.Hour)) || o.Reason != "PoP alarms" {
			t.Errorf("override made by the plan: %+v", o)
		}
	}
	tab := e.Evaluate(t0)
	if w := tab.Get(0, 1); w.W[1] == 0 || w.W[0] != 0 || w.W[2] != 0 {
		t.Errorf("kr with the plan in force: %v, want all on cloudfront", w.W)
	}
	var pv PlanView
	for _, p := range e.Plans(t0) {
		if p.Name == "akamai-kr-out" {
			pv = p
		}
	}
	if !pv.Active || len(pv.Activations) != 1 || pv.Activations[0].By != "mina" || pv.Activations[0].Reason != "PoP alarms" ||
		!pv.Activations[0].Until.Equal(t0.Add(time.Hour)) || len(pv.Activations[0].Overrides) != 2 || len(pv.Overrides) != 2 {
		t.Errorf("plan view: %+v", pv)
	}
	ended, err := e.EndPlan("akamai-kr-out", "PoPs back", t0.Add(time.Minute))
	if err != nil || len(ended) != 2 || len(e.Overrides(t0.Add(time.Minute))) != 0 {
		t.Errorf("end: %v %v", ended, err)
	}
	if ended, err := e.EndPlan("akamai-kr-out", "again", t0.Add(time.Minute)); err != nil || len(ended) != 0 {
		t.Errorf("ending a plan not in force: %v %v", ended, err)
	}
	if len(j.kinds(DecisionPlan)) != 1 || len(j.kinds(DecisionPlanEnd)) != 1 || len(j.kinds(DecisionOverride)) != 2 || len(j.kinds(DecisionOverrideEnd)) != 2 {
		t.Errorf("decision log: %d plan, %d plan_end, %d override, %d override_end", len(j.kinds(DecisionPlan)), len(j.kinds(DecisionPlanEnd)),
			len(j.kinds(DecisionOverride)), len(j.kinds(DecisionOverrideEnd)))
	}
	if evs := e.PlanEvents(time.Time{}); len(evs) != 2 || !strings.Contains(evs[0].Text, "by mina") {
		t.Errorf("events: %+v", evs)
	}
}

func TestScheduleBeginsAndEndsOnItsOwn(t *testing.T) {
	j := &memJournal{}
	e := NewEngine(planConfig(), j)
	start, end := t0.Add(30*time.Minute), t0.Add(3*time.Hour+15*time.Minute)
	if next := e.NextScheduleEdge(t0); !next.Equal(start) {
		t.Errorf("next edge before the window: %v, want %v", next, start)
	}
	ttl := func(at time.Time) (uint32, string) {
		w := e.Evaluate(at).Get(0, 1)
		return w.TTL, w.TTLCause
	}
	if got, _ := ttl(start.Add(-time.Nanosecond)); got != 0 || len(e.Overrides(start.Add(-time.Nanosecond))) != 0 {
		t.Errorf("before the window: ttl %d, overrides %v", got, e.Overrides(start))
	}
	if got, cause := ttl(start); got != 10 || cause != "schedule match" {
		t.Errorf("in the window: ttl %d (%s), want 10 by the schedule", got, cause)
	}
	ovs := e.Overrides(start)
	if len(ovs) != 2 || ovs[0].Plan.Schedule != "match" || !ovs[0].Expires.Equal(end) {
		t.Fatalf("the window's plan: %+v", ovs)
	}
	if sv := e.Schedules(start); len(sv) != 1 || sv[0].State != "in_force" {
		t.Errorf("schedules in the window: %+v", sv)
	}
	if next := e.NextScheduleEdge(start); !next.Equal(end) {
		t.Errorf("next edge in the window: %v", next)
	}
	ttl(start.Add(time.Minute)) // later evaluations begin nothing again
	if n := len(e.Overrides(start)); n != 2 || len(j.kinds(DecisionSchedule)) != 1 {
		t.Errorf("%d overrides and %d starts after a second evaluation", n, len(j.kinds(DecisionSchedule)))
	}
	if got, _ := ttl(end); got != 0 || len(e.Overrides(end)) != 0 {
		t.Errorf("at the end: ttl %d, overrides %v", got, e.Overrides(end))
	}
	if ends := j.kinds(DecisionScheduleEnd); len(ends) != 1 || !ends[0].Time.Equal(end) {
		t.Errorf("schedule_end: %+v", ends)
	}
	if pe := j.kinds(DecisionPlanEnd); len(pe) != 1 || !strings.Contains(pe[0].Reason, "schedule match ended") {
		t.Errorf("the window's plan ended: %+v", pe)
	}
	if sv := e.Schedules(end); sv[0].State != "past" || !e.NextScheduleEdge(end).IsZero() {
		t.Errorf("after the window: %+v", sv)
	}
}

// TestScheduleAcrossRestarts restores a second engine from the first's
// decision log: inside the window the plan is in force once (not twice),
// a plan the operator ended stays ended, and after the window all of it
// is reverted.
func TestScheduleAcrossRestarts(t *testing.T) {
	start, end := t0.Add(30*time.Minute), t0.Add(3*time.Hour+15*time.Minute)
	j := &memJournal{}
	e := NewEngine(planConfig(), j)
	e.Evaluate(start.Add(time.Second))

	restart := func(at time.Time) (*Engine, *memJournal) {
		j2 := &memJournal{}
		e2 := NewEngine(planConfig(), j2)
		e2.Restore(j.ds, at)
		e2.Evaluate(at)
		return e2, j2
	}
	e2, j2 := restart(start.Add(time.Hour))
	if ovs := e2.Overrides(start.Add(time.Hour)); len(ovs) != 2 || len(j2.kinds(DecisionSchedule)) != 0 {
		t.Errorf("restarted inside the window: %d overrides, %d new starts", len(ovs), len(j2.kinds(DecisionSchedule)))
	}
	if w := e2.Table().Get(0, 1); w.TTL != 10 {
		t.Errorf("restarted inside the window: ttl %d", w.TTL)
	}
	if evs := e2.PlanEvents(time.Time{}); len(evs) != 2 {
		t.Errorf("events restored: %+v", evs)
	}

	if _, err := e.EndPlan("akamai-kr-out", "not needed", start.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	e3, _ := restart(start.Add(time.Hour))
	if n := len(e3.Overrides(start.Add(time.Hour))); n != 0 {
		t.Errorf("a plan ended before the restart is back: %d overrides", n)
	}

	// The log ends inside the window; the server comes back after it.
	e4, j4 := restart(end.Add(time.Minute))
	if n := len(e4.Overrides(end.Add(time.Minute))); n != 0 || e4.Table().Get(0, 1).TTL != 0 || len(j4.kinds(DecisionScheduleEnd)) != 1 {
		t.Errorf("restarted after the window: %d overrides, ttl %d, %d ends", n, e4.Table().Get(0, 1).TTL, len(j4.kinds(DecisionScheduleEnd)))
	}

	// Down for the whole start: the window begins late rather than never.
	e5, j5 := NewEngine(planConfig(), nil), &memJournal{}
	e5.journal = j5
	e5.Evaluate(start.Add(2 * time.Hour))
	if n := len(e5.Overrides(start.Add(2 * time.Hour))); n != 2 || len(j5.kinds(DecisionSchedule)) != 1 {
		t.Errorf("started inside the window with no log: %d overrides", n)
	}
}

func TestTTLInFlux(t *testing.T) {
	cfg := planConfig()
	cfg.Schedules = nil
	e := NewEngine(cfg, nil)
	at := run(e, t0, 10, allGood)
	if w := e.Table().Get(0, 0); w.TTL != 0 {
		t.Errorf("all healthy: ttl %d (%s), want the policy's", w.TTL, w.TTLCause)
	}
	at = run(e, at, 5, fastlyBadFrom(at))
	if w := e.Table().Get(0, 0); w.TTL != 5 || w.TTLCause != "ttl_in_flux: fastly degraded" {
		t.Errorf("fastly degraded: ttl %d (%s), want 5", w.TTL, w.TTLCause)
	}
	if v := e.View(at); v.Policies[0].Regions[0].TTL != 5 {
		t.Errorf("view: ttl %d", v.Policies[0].Regions[0].TTL)
	}
	// Recovering still counts; healthy again, the policy's TTL returns.
	sawRecovering := false
	for i := 0; i < 120 && e.Table().Get(0, 0).TTL != 0; i++ {
		at = run(e, at, 1, allGood)
		if w := e.Table().Get(0, 0); w.TTLCause == "ttl_in_flux: fastly recovering" && w.TTL == 5 {
			sawRecovering = true
		}
	}
	if !sawRecovering || e.Table().Get(0, 0).TTL != 0 {
		t.Errorf("recovering seen with ttl_in_flux: %v; ttl once healthy: %d", sawRecovering, e.Table().Get(0, 0).TTL)
	}

	// With a schedule's ttl too, the lower of the two wins.
	cfg.Schedules = []Schedule{{Name: "match", Start: t0, End: t0.Add(24 * time.Hour), TTL: 10 * time.Second}}
	e.SetConfig(cfg, at)
	e.Evaluate(at)
	if w := e.Table().Get(0, 0); w.TTL != 10 {
		t.Errorf("schedule alone: ttl %d", w.TTL)
	}
	at = run(e, at, 5, fastlyBadFrom(at))
	if w := e.Table().Get(0, 0); w.TTL != 5 {
		t.Errorf("schedule 10 and ttl_in_flux 5: ttl %d, want 5", w.TTL)
	}
	cfg.Schedules[0].TTL = 3 * time.Second
	e.SetConfig(cfg, at)
	if w := e.Evaluate(at).Get(0, 0); w.TTL != 3 || w.TTLCause != "schedule match" {
		t.Errorf("schedule 3 and ttl_in_flux 5: ttl %d (%s), want 3", w.TTL, w.TTLCause)
	}
}

func TestPlanMetrics(t *testing.T) {
	cfg := planConfig()
	now := time.Now()
	cfg.Schedules = []Schedule{{Name: "match", Start: now.Add(-time.Minute), End: now.Add(time.Hour), TTL: 10 * time.Second}}
	e := NewEngine(cfg, nil)
	e.Evaluate(now)
	if _, err := e.ActivatePlan("akamai-kr-out", Activation{Reason: "test"}, now); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e))
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP cdnsteer_plan_active 1 while some activation of the plan is in force.
# TYPE cdnsteer_plan_active gauge
cdnsteer_plan_active{plan="akamai-kr-out"} 1
cdnsteer_plan_active{plan="gone"} 0
# HELP cdnsteer_schedule_in_force 1 while the schedule's window is in force.
# TYPE cdnsteer_schedule_in_force gauge
cdnsteer_schedule_in_force{schedule="match"} 1
# HELP cdnsteer_steered_ttl_seconds TTL of the region's steered answers now (the shortest of the policies').
# TYPE cdnsteer_steered_ttl_seconds gauge
cdnsteer_steered_ttl_seconds{region="default"} 10
cdnsteer_steered_ttl_seconds{region="kr"} 10
`), "cdnsteer_plan_active", "cdnsteer_schedule_in_force", "cdnsteer_steered_ttl_seconds")
	if err != nil {
		t.Error(err)
	}
}
