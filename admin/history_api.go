package admin

import (
	"net/http"
)

// getHistory answers GET /api/v1/history[?since=T]: the samples newer
// than T (RFC 3339, fractions allowed), or the whole window without it.
// The live view passes the previous answer's "until", so that each poll
// carries one new sample rather than half an hour.
func (a *api) getHistory(w http.ResponseWriter, r *http.Request) {
	if a.cfg.History == nil {
		writeError(w, http.StatusServiceUnavailable, "health engine not running")
		return
	}
	since, rerr := sinceParam(r)
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	writeJSON(w, http.StatusOK, a.cfg.History.since(since))
}
