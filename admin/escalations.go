package admin

import (
	"errors"
	"net/http"

	"github.com/cdnsteer/cdnsteer/health/escalation"
)

// escalationRequest is the body of POST /api/v1/escalations.
type escalationRequest struct {
	CDN    string `json:"cdn"`
	Region string `json:"region"`
	Text   string `json:"text"`
}

// escalations wraps a handler that needs the escalation manager: without
// one (a test's endpoint, say) it answers 503.
func (a *api) escalations(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Escalations == nil {
			writeError(w, http.StatusServiceUnavailable, "escalations are not running")
			return
		}
		h(w, r)
	}
}

func (a *api) registerEscalations(mux *http.ServeMux) {
	mux.Handle("/api/v1/escalations", route{
		http.MethodGet:  a.read(a.escalations(a.listEscalations)),
		http.MethodPost: a.write(a.escalations(a.postEscalation)),
	})
	mux.Handle("/api/v1/escalations/{id}", route{http.MethodDelete: a.write(a.escalations(a.deleteEscalation))})
}

// postEscalation opens an operator's escalation: 201 with it; 400 for an
// unknown CDN or region or a missing text, 409 when that CDN is already
// escalated in that region.
func (a *api) postEscalation(w http.ResponseWriter, r *http.Request) {
	var req escalationRequest
	if !decodeRequest(w, r, &req) {
		return
	}
	e, err := a.cfg.Escalations.Open(req.CDN, req.Region, req.Text, who(r))
	var open *escalation.OpenError
	switch {
	case errors.As(err, &open):
		writeJSON(w, http.StatusConflict, map[string]any{"error": open.Error(), "field": "cdn", "escalation": open.Existing})
		return
	case err != nil:
		a.writeEngineError(w, err, "opening the escalation")
		return
	}
	a.cfg.Logger.Info("escalation opened via API", "id", e.ID, "cdn", e.CDN, "region", e.Region, "who", e.Who, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusCreated, e)
}

// listEscalations answers the open escalations, the recently closed ones
// and how their alerts are getting to each Alertmanager.
func (a *api) listEscalations(w http.ResponseWriter, r *http.Request) {
	if _, rerr := query(r); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	writeJSON(w, http.StatusOK, a.cfg.Escalations.View())
}

// deleteEscalation closes an open escalation (?reason= optional): 200
// with it as closed, its alert resolved; 404 when none is open by that id.
func (a *api) deleteEscalation(w http.ResponseWriter, r *http.Request) {
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
	id := r.PathValue("id")
	e, err := a.cfg.Escalations.Close(id, byWho(reason, who(r)))
	if errors.Is(err, escalation.ErrNotFound) {
		writeJSON(w, http.StatusNotFound, apiError{Error: "no open escalation " + id, Field: "id"})
		return
	}
	if err != nil {
		a.writeEngineError(w, err, "closing the escalation")
		return
	}
	a.cfg.Logger.Info("escalation closed via API", "id", id, "reason", reason, "who", who(r), "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, e)
}
