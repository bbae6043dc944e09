package health

import "time"

// fullCheckpointInterval is how often the decision log gets a full
// checkpoint when nothing else asks for one: a piece of the log cut by
// size or time (rather than reopened on SIGUSR1) holds one within it. At
// 1,000 steered names a full checkpoint is about 12 MB, so four an hour.
const fullCheckpointInterval = 15 * time.Minute

// checkpointDelta shapes the checkpoints the engine gives the decision
// log (every state, each minute) into what the file gets: a full one at
// the start of the file, after a failed write, when the states listed are
// not those of the last one, and every fullCheckpointInterval; otherwise
// a delta of the states whose score, status or ramp changed since the
// checkpoint last written to the file, and of those with a state change
// written since. A state change is in the delta even when the state is
// back to what that checkpoint said: a warm restart reads the change
// (which starts a recovery's ramp over), and only the checkpoint after it
// puts the ramp back where it was. Weight, which moves with every load
// and lives in the weights lines, does not by itself put a state in a
// delta (a state listed carries its weight of the minute).
//
// It belongs to the writer goroutine: no locking.
type checkpointDelta struct {
	prev     []CDNCheckpoint // every state, as of the last checkpoint written
	gen      uint64          // the file (FileJournal.gen) prev was written to
	lastFull time.Time
	full     bool                  // the next checkpoint must be full
	touched  map[stateKey]struct{} // state changes written since prev
}

// shape returns what to write for the engine's checkpoint d to file gen.
func (c *checkpointDelta) shape(d Decision, gen uint64) Decision {
	if c.prev == nil || c.full || gen != c.gen || len(d.States) != len(c.prev) ||
		d.Time.Sub(c.lastFull) >= fullCheckpointInterval || d.Time.Before(c.lastFull) {
		return d
	}
	var changed []CDNCheckpoint
	for i := range d.States {
		a, b := &c.prev[i], &d.States[i]
		if a.Policy != b.Policy || a.Region != b.Region || a.CDN != b.CDN {
			return d // not the same states: a reload added some
		}
		if a.Score != b.Score || a.Status != b.Status || a.Ramp != b.Ramp || c.wasTouched(b) {
			changed = append(changed, *b)
		}
	}
	return Decision{Time: d.Time, Kind: DecisionCheckpoint, Delta: true, States: changed}
}

func (c *checkpointDelta) wasTouched(s *CDNCheckpoint) bool {
	if len(c.touched) == 0 {
		return false
	}
	_, ok := c.touched[stateKey{s.Policy, s.Region, s.CDN}]
	return ok
}

// written records that out, shaped from the engine's d, is in file gen.
func (c *checkpointDelta) written(d, out Decision, gen uint64) {
	c.prev, c.gen, c.full = d.States, gen, false
	if !out.Delta {
		c.lastFull = d.Time
	}
	clear(c.touched)
}

// wrote notes a line other than a checkpoint written (ok) or lost to a
// failed write, which may have left part of a line for the next to join:
// the next checkpoint is full.
func (c *checkpointDelta) wrote(d Decision, ok bool) {
	if !ok {
		c.full = true
		return
	}
	// As Restore reads state changes.
	if d.Kind == DecisionState && d.Score != nil && d.CDN != "" {
		if c.touched == nil {
			c.touched = map[stateKey]struct{}{}
		}
		c.touched[stateKey{d.Policy, d.Region, d.CDN}] = struct{}{}
	}
}
