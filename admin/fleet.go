package admin

import (
	"net/http"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Replicator carries what operators write on this instance to the rest of
// the fleet. It is declared here, where the writes happen, so that the
// fleet depends on admin's needs and not the other way round. Every method
// returns at once: replication must never hold up an operator's request.
type Replicator interface {
	OverrideAdded(o health.Override)
	OverrideEnded(o health.Override, at time.Time, reason string)
	AnnotationAdded(n health.Annotation)
	SignalsPushed(sigs []health.Signal)
	// Status is what GET /api/v1/fleet answers: a JSON-encodable view of
	// the instances seen and whether they agree.
	Status(now time.Time) any
}

// getFleet answers the fleet's view from this instance; an instance
// without [fleet] says it stands alone.
func (a *api) getFleet(w http.ResponseWriter, r *http.Request) {
	if _, rerr := query(r); rerr != nil {
		writeRequestError(w, rerr)
		return
	}
	if a.cfg.Fleet == nil {
		writeJSON(w, http.StatusOK, map[string]any{"enabled": false})
		return
	}
	writeJSON(w, http.StatusOK, a.cfg.Fleet.Status(a.cfg.Now()))
}
