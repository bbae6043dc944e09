package admin

import (
	"net/http"
	"slices"
	"time"
)

// getHistory answers GET /api/v1/history[?since=T][&policy=NAME]: the
// samples newer than T (RFC 3339, fractions allowed), or the whole window
// without it; of one policy's series with policy=. The live view passes
// the previous answer's "until" and the policy it shows, so that each
// poll carries one new sample of one policy rather than half an hour of
// all of them.
func (a *api) getHistory(w http.ResponseWriter, r *http.Request) {
	if a.cfg.History == nil {
		writeError(w, http.StatusServiceUnavailable, "health engine not running")
		return
	}
	q, rerr := query(r, "since", "policy")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		if since, rerr = parseTime("since", s); rerr != nil {
			rerr.msg += plusHint(s)
			writeRequestError(w, rerr)
			return
		}
	}
	policy := q.Get("policy")
	if q.Has("policy") && (a.cfg.Engine == nil || !slices.Contains(a.cfg.Engine.PolicyNames(), policy)) {
		writeRequestError(w, badRequest("policy", "no policy named %q", policy))
		return
	}
	writeJSON(w, http.StatusOK, a.cfg.History.since(since, policy))
}
