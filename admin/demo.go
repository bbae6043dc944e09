package admin

import (
	"errors"
	"net/http"

	"github.com/cdnsteer/cdnsteer/demo/edges"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// registerDemo adds the demo's endpoints. Outside a demo nothing is
// registered, so the whole /api/v1/demo/ tree is a 404 like any unknown
// path and a production endpoint shows no trace of it.
func (a *api) registerDemo(mux *http.ServeMux) {
	if a.cfg.Demo == nil {
		return
	}
	mux.Handle("/api/v1/demo/edges", route{http.MethodGet: a.read(a.listEdges)})
	mux.Handle("/api/v1/demo/edges/{cdn}", route{http.MethodPost: a.write(a.postEdge)})
}

// listEdges answers the simulated edges: knobs, URL and counters.
func (a *api) listEdges(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeRequestError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]edges.Status{"edges": a.cfg.Demo.Status()})
}

// postEdge turns an edge's knobs. Fields left out keep their value; a
// value out of range changes nothing.
func (a *api) postEdge(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		writeRequestError(w, err)
		return
	}
	cdn := r.PathValue("cdn")
	e := a.cfg.Demo.Edge(cdn)
	if e == nil {
		writeJSON(w, http.StatusNotFound, apiError{Error: "no simulated edge for cdn " + cdn, Field: "cdn"})
		return
	}
	var p edges.Patch
	if err := decodeBody(w, r, &p); err != nil {
		writeRequestError(w, err)
		return
	}
	if p.Empty() {
		writeRequestError(w, badRequest("", "give at least one of latency_ms, error_rate, cache_hit_ratio, bandwidth_mbps"))
		return
	}
	k, err := e.Update(p)
	if err != nil {
		var ke *keyerr.Error
		if errors.As(err, &ke) {
			writeRequestError(w, badRequest(ke.Key, "%s", ke.Error()))
			return
		}
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	a.cfg.Logger.Info("demo edge changed via API", "cdn", cdn, "latency_ms", k.LatencyMs, "error_rate", k.ErrorRate,
		"cache_hit_ratio", k.CacheHitRatio, "bandwidth_mbps", k.BandwidthMbps, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, e.Status())
}
