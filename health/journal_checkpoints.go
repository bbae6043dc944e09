package health

// CheckpointState follows the checkpoints of one decision log, full and
// delta, in order: after each, it holds what a full checkpoint written at
// that time would have listed. Readers that want every state at every
// checkpoint (the report's minutely score points, a warm restart) read a
// log of deltas through it.
type CheckpointState struct {
	states []CDNCheckpoint
	at     map[stateKey]int // position in states
}

// Apply reads checkpoint d and returns every state it leaves: a full
// checkpoint's own list, or the list before it with a delta's states
// replaced (in place) and any new ones appended. The slice is the
// follower's own and changes with the next Apply: copy it to keep it.
func (c *CheckpointState) Apply(d Decision) []CDNCheckpoint {
	if !d.Delta {
		c.reset(d.States)
		return c.states
	}
	for _, s := range d.States {
		k := stateKey{s.Policy, s.Region, s.CDN}
		if i, ok := c.at[k]; ok {
			c.states[i] = s
			continue
		}
		if c.at == nil {
			c.at = map[stateKey]int{}
		}
		c.at[k] = len(c.states)
		c.states = append(c.states, s)
	}
	return c.states
}

// States is every state the checkpoints read so far leave (see Apply).
func (c *CheckpointState) States() []CDNCheckpoint { return c.states }

// reset copies a full checkpoint's list (the log's own is left alone:
// deltas change the copy in place). The position index is rebuilt only
// when the states listed are not those of the list before, in order, as
// they are from one checkpoint to the next until a reload adds some.
func (c *CheckpointState) reset(states []CDNCheckpoint) {
	same := len(states) == len(c.states)
	for i := 0; same && i < len(states); i++ {
		a, b := &states[i], &c.states[i]
		same = a.Policy == b.Policy && a.Region == b.Region && a.CDN == b.CDN
	}
	c.states = append(c.states[:0], states...)
	if same {
		return
	}
	c.at = make(map[stateKey]int, len(states))
	for i, s := range states {
		c.at[stateKey{s.Policy, s.Region, s.CDN}] = i
	}
}
