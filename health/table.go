package health

// Table is an immutable set of live weights, one vector per policy and
// region index. The DNS path reads it through one atomic pointer load; the
// engine publishes a new Table instead of changing one.
type Table struct {
	w [][]*Weights
}

// NewTable wraps per-policy, per-region weight vectors. A nil entry means
// "no live weights: use the baseline".
func NewTable(w [][]*Weights) *Table { return &Table{w: w} }

// Get returns the live weights of a policy and region, or nil. A nil Table
// has no live weights.
func (t *Table) Get(policy, region int) *Weights {
	if t == nil || policy >= len(t.w) || region >= len(t.w[policy]) {
		return nil
	}
	return t.w[policy][region]
}
