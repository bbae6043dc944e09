package admin

import (
	"net/http"
)

// ExplainFunc answers why a client gets the answer it gets for a name
// now. It belongs to the caller, which holds the DNS snapshot; admin only
// carries the question. It returns a *keyerr.Error for bad input
// (Field "name", "client" or "ecs"), which becomes a 400; any other error
// is a 500.
type ExplainFunc func(name, client, ecs string) (any, error)

// getExplain answers GET /api/v1/explain?name=N&client=IP[&ecs=PREFIX].
func (a *api) getExplain(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Explain == nil {
		writeError(w, http.StatusServiceUnavailable, "explain is not available: no policy is loaded")
		return
	}
	q, rerr := query(r, "name", "client", "ecs")
	if rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	for _, p := range []string{"name", "client"} {
		if q.Get(p) == "" {
			writeRequestError(w, badRequest(p, "%s: required (explain?name=N&client=IP[&ecs=PREFIX])", p))
			return
		}
	}
	v, err := a.cfg.Explain(q.Get("name"), q.Get("client"), q.Get("ecs"))
	if err != nil {
		a.writeEngineError(w, err, "explain of "+q.Get("name")+" for "+q.Get("client"))
		return
	}
	writeJSON(w, http.StatusOK, v)
}
