package admin

import (
	"net/http"

	"github.com/cdnsteer/cdnsteer/health"
)

// getState answers the engine's view: per policy, region and CDN the
// score, signals, status and live and baseline weights, and the overrides
// in force; and the SHA-256 of the policy file in force, so that an
// operator can tell which policy each instance runs.
// At most a page of policies at a time (state_page.go).
func (a *api) getState(w http.ResponseWriter, r *http.Request) {
	view, page, err := a.stateSelection(r)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	state := struct {
		PolicySHA256 string `json:"policy_sha256,omitempty"`
		health.View
		statePage
	}{View: view, statePage: page}
	if a.cfg.PolicyHash != nil {
		state.PolicySHA256 = a.cfg.PolicyHash()
	}
	writeJSON(w, http.StatusOK, state)
}
