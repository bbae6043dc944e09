package admin

import (
	"net/http"

	"github.com/cdnsteer/cdnsteer/health"
)

// getKinds answers the signal kinds, in the order the live view shows
// them, so that the page declares no kind of its own.
func (a *api) getKinds(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeRequestError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]health.KindInfo{"kinds": health.Kinds()})
}
