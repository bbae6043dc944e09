package admin

import "net/http"

// getState answers the engine's view: per policy, region and CDN the
// score, signals, status and live and baseline weights, and the overrides
// in force.
func (a *api) getState(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeRequestError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.cfg.Engine.View(a.cfg.Now()))
}
