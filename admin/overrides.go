package admin

import (
	"errors"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/cdnsteer/cdnsteer/health"
)

const (
	// maxOverrideTTL bounds an override's life: one forgotten for longer
	// than a week would quietly keep overruling the health scores.
	maxOverrideTTL = 7 * 24 * time.Hour
	// maxReason bounds a reason, which goes into every log line about it.
	maxReason = 1000
)

// overrideRequest is the body of POST /api/v1/overrides. TTL and Expires
// are strings so that a malformed one is named precisely.
type overrideRequest struct {
	Action  string `json:"action"`
	CDN     string `json:"cdn"`
	Region  string `json:"region"`
	Policy  string `json:"policy"`
	TTL     string `json:"ttl"`
	Expires string `json:"expires"`
	Reason  string `json:"reason"`
	// Force puts a pin in force on a CDN that is drained, degraded or
	// full, which is otherwise refused.
	Force bool `json:"force"`
}

// expiry resolves the request's ttl or expires, exactly one of which must
// be given, to the moment the override ends.
func (o *overrideRequest) expiry(now time.Time) (time.Time, *requestError) {
	switch {
	case o.TTL != "" && o.Expires != "":
		return time.Time{}, badRequest("expires", "give ttl or expires, not both")
	case o.TTL != "":
		d, err := time.ParseDuration(o.TTL)
		switch {
		case err != nil:
			return time.Time{}, badRequest("ttl", "ttl: %q is not a duration such as 10m or 1h30m", o.TTL)
		case d <= 0:
			return time.Time{}, badRequest("ttl", "ttl: must be positive")
		case d > maxOverrideTTL:
			return time.Time{}, badRequest("ttl", "ttl: %s is longer than the maximum %s", d, maxOverrideTTL)
		}
		return now.Add(d), nil
	case o.Expires != "":
		t, rerr := parseTime("expires", o.Expires)
		switch {
		case rerr != nil:
			return time.Time{}, rerr
		case !t.After(now):
			return time.Time{}, badRequest("expires", "expires: %s has already passed", o.Expires)
		case t.Sub(now) > maxOverrideTTL:
			return time.Time{}, badRequest("expires", "expires: %s is more than %s away", o.Expires, maxOverrideTTL)
		}
		return t, nil
	}
	return time.Time{}, badRequest("ttl", "give ttl (such as 10m) or expires (RFC 3339): an override must end")
}

// postOverride puts a drain, pin or freeze in force. The engine validates
// names against the policy and records the override in the decision log.
func (a *api) postOverride(w http.ResponseWriter, r *http.Request) {
	var req overrideRequest
	q, rerr := query(r, "dry_run")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	dryRun, rerr := flag(q, "dry_run")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	if rerr := decodeBody(w, r, &req); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	now := a.cfg.Now()
	expires, rerr := req.expiry(now)
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	if rerr := checkReason(req.Reason); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	proposed := health.Override{Action: req.Action, CDN: req.CDN, Region: req.Region,
		Policy: req.Policy, Expires: expires, Reason: req.Reason, By: who(r)}
	hazards := pinHazards(a.cfg.Engine.View(now), proposed)
	if dryRun {
		split, err := a.cfg.Engine.PreviewOverride(proposed, now)
		if err != nil {
			a.writeEngineError(w, err, "previewing the override")
			return
		}
		writeJSON(w, http.StatusOK, overridePreview{DryRun: true, Split: split, Hazards: hazards})
		return
	}
	if len(hazards) > 0 && !req.Force {
		writeJSON(w, http.StatusConflict, pinRefused{Error: "refused: a pin to " + req.CDN + " would send the whole region to a CDN that is " +
			hazards[0].Problem + " (" + hazards[0].Region + "); set force to pin anyway", Field: "cdn", Hazards: hazards})
		return
	}
	o, err := a.cfg.Engine.AddOverride(proposed, now)
	if err != nil {
		a.writeEngineError(w, err, "adding the override")
		return
	}
	if a.cfg.Fleet != nil {
		a.cfg.Fleet.OverrideAdded(o)
	}
	a.cfg.Logger.Info("override added via API", "id", o.ID, "action", o.Action, "policy", o.Policy, "region", o.Region,
		"cdn", o.CDN, "expires", o.Expires, "reason", o.Reason, "who", o.By, "remote", r.RemoteAddr)
	w.Header().Set("Location", "/api/v1/overrides/"+o.ID)
	writeJSON(w, http.StatusCreated, o)
}

// listOverrides answers the overrides in force, oldest first.
func (a *api) listOverrides(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeRequestError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]health.Override{"overrides": a.cfg.Engine.Overrides(a.cfg.Now())})
}

// deleteOverride ends an override before its expiry; the optional reason
// goes to the decision log.
func (a *api) deleteOverride(w http.ResponseWriter, r *http.Request) {
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
		reason = "deleted via the API"
	}
	reason = byWho(reason, who(r))
	id := r.PathValue("id")
	now := a.cfg.Now()
	// The fleet's tombstone needs the override (its expiry bounds how long
	// the tombstone matters): taken before it is gone.
	var ended *health.Override
	if a.cfg.Fleet != nil {
		for _, o := range a.cfg.Engine.Overrides(now) {
			if o.ID == id {
				ended = &o
			}
		}
	}
	err := a.cfg.Engine.DeleteOverride(id, now, reason)
	switch {
	case errors.Is(err, health.ErrNotFound):
		writeJSON(w, http.StatusNotFound, apiError{Error: "no override " + id + " in force", Field: "id"})
		return
	case err != nil:
		a.cfg.Logger.Error("deleting an override failed", "id", id, "err", err)
		writeError(w, http.StatusInternalServerError, "cannot delete the override: "+err.Error())
		return
	}
	if ended != nil {
		a.cfg.Fleet.OverrideEnded(*ended, now, reason)
	}
	a.cfg.Logger.Info("override deleted via API", "id", id, "reason", reason, "remote", r.RemoteAddr)
	w.WriteHeader(http.StatusNoContent)
}

// checkReason bounds a reason, which goes into every log line about it.
func checkReason(s string) *requestError {
	if utf8.RuneCountInString(s) > maxReason {
		return badRequest("reason", "reason: longer than %d characters", maxReason)
	}
	return nil
}

// overridePreview is the answer to POST /api/v1/overrides?dry_run=1.
type overridePreview struct {
	DryRun  bool                   `json:"dry_run"`
	Split   []health.RegionPreview `json:"split"`
	Hazards []pinHazard            `json:"hazards"`
}

// pinHazard is a reason not to pin a region to a CDN.
type pinHazard struct {
	Policy  string `json:"policy"`
	Region  string `json:"region"`
	CDN     string `json:"cdn"`
	Problem string `json:"problem"` // drained, degraded or full
}

// pinRefused is the 409 answer to a pin with hazards and no force.
type pinRefused struct {
	Error   string      `json:"error"`
	Field   string      `json:"field"`
	Hazards []pinHazard `json:"hazards"`
}

// pinHazards lists where a pin would send a whole region to a CDN that
// cannot serve it well: drained (an operator took it out), degraded (the
// scores took it out) or full (at or over its commit). Only a pin is
// checked: a drain or a freeze sends no region anywhere new.
func pinHazards(v health.View, o health.Override) []pinHazard {
	out := []pinHazard{}
	if o.Action != health.ActionPin {
		return out
	}
	for _, p := range v.Policies {
		for _, r := range p.Regions {
			if !o.Applies(p.Name, r.Name) {
				continue
			}
			for _, c := range r.CDNs {
				if c.Name != o.CDN {
					continue
				}
				problem := ""
				switch {
				case c.Status == health.Drained:
					problem = "drained"
				case c.Status == health.Degraded:
					problem = "degraded"
				case full(c.Utilisation) || full(c.UtilisationNow):
					problem = "full"
				}
				if problem != "" {
					out = append(out, pinHazard{Policy: p.Name, Region: r.Name, CDN: c.Name, Problem: problem})
				}
			}
		}
	}
	return out
}

func full(u *float64) bool { return u != nil && *u >= 1 }

// flag reads a boolean query parameter: absent, 1/true or 0/false.
func flag(q url.Values, name string) (bool, *requestError) {
	switch q.Get(name) {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	}
	return false, badRequest(name, "%s: %q is not 1, true, 0 or false", name, q.Get(name))
}
