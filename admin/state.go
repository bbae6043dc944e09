package admin

import (
	"net/http"

	"github.com/cdnsteer/cdnsteer/health"
)

// getState answers the engine's view: per policy, region and CDN the
// score, signals, status and live and baseline weights, and the overrides
// in force. At most a page of policies at a time (state_page.go).
func (a *api) getState(w http.ResponseWriter, r *http.Request) {
	view, page, err := a.stateSelection(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		health.View
		statePage
	}{view, page})
}
