package sim

import (
	"fmt"
	"strings"

	"github.com/cdnsteer/cdnsteer/health"
)

// recorder is the simulation's decision log: it keeps every decision in
// memory, in order. The engine names overrides with random IDs; the
// recorder renames them "sim-1", "sim-2" … in order of appearance, so that
// the same scenario and seed give a byte-identical log.
type recorder struct {
	ds  []health.Decision
	ids map[string]string
}

func newRecorder() *recorder { return &recorder{ids: map[string]string{}} }

// Record implements health.Journal. The simulation is single-threaded, so
// no lock is needed.
func (r *recorder) Record(d health.Decision) {
	if d.Override != nil {
		o := *d.Override // the engine's own copy must keep its real ID
		id, ok := r.ids[o.ID]
		if !ok {
			id = fmt.Sprintf("sim-%d", len(r.ids)+1)
			r.ids[o.ID] = id
		}
		d.Reason = strings.ReplaceAll(d.Reason, o.ID, id)
		o.ID = id
		d.Override = &o
	}
	r.ds = append(r.ds, d)
}
