package admin

import (
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/cdnsteer/cdnsteer/health"
)

// maxBy bounds who an activation says it is from.
const maxBy = 100

// registerPlans adds the plans endpoints: a plan is activated and ended
// as a whole; schedules and the plan events of the timeline ride along
// with the list, which is what the live view's Plans panel reads.
func (a *api) registerPlans(mux *http.ServeMux) {
	mux.Handle("/api/v1/plans", route{http.MethodGet: a.read(a.engine(a.listPlans))})
	mux.Handle("/api/v1/plans/{name}/activate", route{http.MethodPost: a.write(a.engine(a.activatePlan))})
	mux.Handle("/api/v1/plans/{name}", route{http.MethodDelete: a.write(a.engine(a.endPlan))})
}

// plansAnswer is GET /api/v1/plans.
type plansAnswer struct {
	Plans     []health.PlanView     `json:"plans"`
	Schedules []health.ScheduleView `json:"schedules"`
	Events    []health.PlanEvent    `json:"events"`
}

// listPlans answers every plan with what it does and whether it is in
// force, the schedules with the one in force and the next, and the plan
// and schedule events since ?since= (all the engine keeps without).
func (a *api) listPlans(w http.ResponseWriter, r *http.Request) {
	q, rerr := query(r, "since")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		if since, rerr = parseTime("since", s); rerr != nil {
			writeRequestError(w, rerr)
			return
		}
	}
	now := a.cfg.Now()
	e := a.cfg.Engine
	writeJSON(w, http.StatusOK, plansAnswer{Plans: e.Plans(now), Schedules: e.Schedules(now), Events: e.PlanEvents(since)})
}

// activateRequest is the optional body of POST /api/v1/plans/{name}/activate.
type activateRequest struct {
	Reason string `json:"reason"`
	TTL    string `json:"ttl"`
	By     string `json:"by"`
}

// activationAnswer is what an activation put in force.
type activationAnswer struct {
	Plan       string            `json:"plan"`
	Activation string            `json:"activation"`
	IDs        []string          `json:"ids"`
	Overrides  []health.Override `json:"overrides"`
}

// activatePlan puts all of a plan's overrides in force, or none: 404 for
// a plan the policy does not define, 409 for one whose overrides no
// longer validate against the policy in force.
func (a *api) activatePlan(w http.ResponseWriter, r *http.Request) {
	var req activateRequest
	if r.ContentLength != 0 && !decodeRequest(w, r, &req) {
		return
	}
	if r.ContentLength == 0 {
		if _, rerr := query(r); rerr != nil {
			writeRequestError(w, rerr)
			return
		}
	}
	now := a.cfg.Now()
	act := health.Activation{Reason: req.Reason, By: req.By}
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		switch {
		case err != nil:
			writeRequestError(w, badRequest("ttl", "ttl: %q is not a duration such as 10m or 1h30m", req.TTL))
			return
		case d <= 0 || d > maxOverrideTTL:
			writeRequestError(w, badRequest("ttl", "ttl: %s is outside 1s..%s", d, maxOverrideTTL))
			return
		}
		act.Expires = now.Add(d)
	}
	if rerr := checkReason(req.Reason); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	if utf8.RuneCountInString(req.By) > maxBy {
		writeRequestError(w, badRequest("by", "by: longer than %d characters", maxBy))
		return
	}
	name := r.PathValue("name")
	if act.Reason == "" {
		act.Reason = "plan " + name + " activated via the API"
	}
	// The token names who; a name in the body (a person using a shared
	// token, say) is kept beside it.
	if act.By == "" {
		act.By = who(r)
	} else {
		act.By = who(r) + " (" + act.By + ")"
	}
	made, err := a.cfg.Engine.ActivatePlan(name, act, now)
	var pe *health.PlanError
	switch {
	case errors.Is(err, health.ErrNoPlan):
		writeJSON(w, http.StatusNotFound, apiError{Error: "no plan " + name + " in the policy", Field: "name"})
		return
	case errors.As(err, &pe):
		writeJSON(w, http.StatusConflict, apiError{Error: pe.Error() + ": the policy in force no longer allows it; nothing was applied", Field: pe.Key()})
		return
	case err != nil:
		a.writeEngineError(w, err, "activating the plan")
		return
	}
	ans := activationAnswer{Plan: name, Activation: made[0].Plan.Activation, IDs: []string{}, Overrides: made}
	for _, o := range made {
		ans.IDs = append(ans.IDs, o.ID)
	}
	a.cfg.Logger.Info("plan activated via API", "plan", name, "activation", ans.Activation, "overrides", ans.IDs, "by", act.By,
		"until", made[0].Expires, "reason", act.Reason, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusCreated, ans)
}

// endPlan ends every override of a plan (every activation of it); the
// optional reason goes to the decision log.
func (a *api) endPlan(w http.ResponseWriter, r *http.Request) {
	q, rerr := query(r, "reason")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	reason := q.Get("reason")
	if rerr := checkReason(reason); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	if reason == "" {
		reason = "ended via the API"
	}
	name := r.PathValue("name")
	ended, err := a.cfg.Engine.EndPlan(name, byWho(reason, who(r)), a.cfg.Now())
	switch {
	case errors.Is(err, health.ErrNoPlan):
		writeJSON(w, http.StatusNotFound, apiError{Error: "no plan " + name + " in the policy or in force", Field: "name"})
		return
	case err != nil:
		a.writeEngineError(w, err, "ending the plan")
		return
	}
	if ended == nil {
		ended = []string{}
	}
	a.cfg.Logger.Info("plan ended via API", "plan", name, "overrides", ended, "reason", reason, "who", who(r), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, map[string]any{"plan": name, "ended": ended})
}
