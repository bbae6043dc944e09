package health

import (
	"math"
	"slices"
)

// allocate is a function of the allocation's inputs alone, and policies
// with the same baseline, parameters and history hand it the same ones:
// a league's names steered alike. So an evaluation keeps what it
// allocated, by the inputs' hash, and a policy whose inputs equal an
// earlier one's bit for bit takes that result instead of allocating
// again (about a third of an evaluation of 1,000 such names).
type allocMemo struct {
	byHash map[uint64][]memoAlloc
	// key and other are scratch for the inputs being compared.
	key, other []uint64
}

type memoAlloc struct {
	in  []uint64 // the inputs as appendInputs gives them
	out allocated
}

// allocate is a.allocate(), or a copy of the result for equal inputs.
// The caller must not change a afterwards.
func (m *allocMemo) allocate(a *allocation) allocated {
	m.key = a.appendInputs(m.key[:0])
	h := fnv(m.key)
	for _, x := range m.byHash[h] {
		if slices.Equal(m.key, x.in) {
			return x.out.clone()
		}
	}
	out := a.allocate()
	if m.byHash == nil {
		m.byHash = map[uint64][]memoAlloc{}
	}
	m.byHash[h] = append(m.byHash[h], memoAlloc{slices.Clone(m.key), out.clone()})
	return out
}

func (al allocated) clone() allocated {
	out := allocated{share: matrix[float64](len(al.share), 0), failOpen: append([]bool(nil), al.failOpen...)}
	for r := range al.share {
		out.share[r] = append([]float64(nil), al.share[r]...)
	}
	return out
}

// appendInputs appends every input of the allocation to buf as bits,
// shapes included. Every field of allocation must be here
// (TestAllocMemoCoversEveryInput).
func (a *allocation) appendInputs(buf []uint64) []uint64 {
	vec := func(v []float64) {
		buf = append(buf, uint64(len(v)))
		for _, x := range v {
			buf = append(buf, math.Float64bits(x))
		}
	}
	mat := func(m [][]float64) {
		buf = append(buf, uint64(len(m)))
		for _, v := range m {
			vec(v)
		}
	}
	vec(a.demand)
	mat(a.want)
	mat(a.capH)
	buf = append(buf, uint64(len(a.gated)))
	for _, v := range a.gated {
		buf = append(buf, uint64(len(v)))
		for _, x := range v {
			if x {
				buf = append(buf, 1)
			} else {
				buf = append(buf, 0)
			}
		}
	}
	mat(a.rank)
	mat(a.base)
	mat(a.stuck)
	if a.gain == nil {
		buf = append(buf, 0) // nil: a gain of 1 everywhere, told apart from a 0 x 0 one
	} else {
		buf = append(buf, 1)
		mat(a.gain)
	}
	buf = append(buf, math.Float64bits(a.follow))
	vec(a.soft)
	vec(a.hard)
	mat(a.softR)
	mat(a.hardR)
	return buf
}

// fnv is FNV-1a over xs.
func fnv(xs []uint64) uint64 {
	h := uint64(14695981039346656037)
	for _, x := range xs {
		h ^= x
		h *= 1099511628211
	}
	return h
}
