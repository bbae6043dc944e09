package health

// The capacity step's working memory, reused from policy to policy within
// an evaluation and from one evaluation to the next: made afresh, it was
// megabytes a second at 1,000 policies (issue 22).
// Nothing keeps any of it past the policy's capacity step.

// scratchAllocation is the allocation the capacity step fills for each
// policy in turn, zeroed: made once per shape rather than seven matrices
// per policy at every evaluation, since nothing keeps it past the step
// (the memo keeps a copy of its inputs).
func (ix *index) scratchAllocation(nR, nC int) *allocation {
	a := ix.scratch
	if a == nil || len(a.want) != nR || len(a.soft) != nC {
		a = &allocation{soft: make([]float64, nC), hard: make([]float64, nC)}
		// One block per matrix rather than a slice per region and matrix.
		a.want, a.capH, a.rank, a.stuck = matrix[float64](nR, nC), matrix[float64](nR, nC), matrix[float64](nR, nC), matrix[float64](nR, nC)
		a.softR, a.hardR, a.gated = matrix[float64](nR, nC), matrix[float64](nR, nC), matrix[bool](nR, nC)
		ix.scratch = a
		return a
	}
	clear(a.soft)
	clear(a.hard)
	for r := range nR {
		clear(a.want[r])
		clear(a.capH[r])
		clear(a.rank[r])
		clear(a.stuck[r])
		clear(a.softR[r])
		clear(a.hardR[r])
		clear(a.gated[r])
	}
	return a
}

// scratchDemand is the demand measureDemand fills for each policy in
// turn, zeroed (its total as NaN is measureDemand's to set): nothing
// keeps it past the policy's capacity step.
func (ix *index) scratchDemand(nR, nC int) demand {
	d := ix.demand
	if len(d.region) != nR || len(d.total) != nC {
		d = demand{region: make([]float64, nR), measured: matrix[float64](nR, nC), total: make([]float64, nC),
			reports: make([]bool, nC), blind: make([]float64, nC)}
		ix.demand, ix.missing = d, make([]float64, nR)
		return d
	}
	clear(d.region)
	for r := range d.measured {
		clear(d.measured[r])
	}
	clear(d.total)
	clear(d.reports)
	clear(d.blind)
	d.known = false
	return d
}

// scratchShares is the capacity plan's split, rows of one block reused
// from policy to policy: the evaluation copies what it keeps of it.
func (ix *index) scratchShares(nR, nC int) [][]float64 {
	if len(ix.shares) != nR || (nR > 0 && cap(ix.shares[0]) != nC) {
		ix.shares = matrix[float64](nR, nC)
	}
	return ix.shares
}
