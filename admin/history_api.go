package admin

import (
	"net/http"
	"time"
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
	q, rerr := query(r, "since")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeRequestError(w, badRequest("since", "since: %q is not an RFC 3339 time%s", s, plusHint(s)))
			return
		}
		since = t
	}
	writeJSON(w, http.StatusOK, a.cfg.History.since(since))
}
