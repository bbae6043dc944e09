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
//
// Plan activations are renamed "activation-1" … the same way.
type recorder struct {
	ds   []health.Decision
	ids  map[string]string
	acts map[string]string
}

func newRecorder() *recorder { return &recorder{ids: map[string]string{}, acts: map[string]string{}} }

// plan is ref with its activation renamed; the engine's ref, shared by
// the activation's overrides, is left alone.
func (r *recorder) plan(ref *health.PlanRef) *health.PlanRef {
	if ref == nil || ref.Activation == "" {
		return ref
	}
	p := *ref
	id, ok := r.acts[p.Activation]
	if !ok {
		id = fmt.Sprintf("activation-%d", len(r.acts)+1)
		r.acts[p.Activation] = id
	}
	p.Activation = id
	return &p
}

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
		o.Plan = r.plan(o.Plan)
		d.Override = &o
	}
	d.Plan = r.plan(d.Plan)
	r.ds = append(r.ds, d)
}
