package health

import (
	"math"
	"reflect"
	"slices"
	"testing"
)

// testAllocation is a small allocation with every input set.
func testAllocation() *allocation {
	m := func(v float64) [][]float64 { return [][]float64{{v, v / 2}, {v / 4, v}} }
	return &allocation{demand: []float64{10, 20}, want: m(0.5), capH: m(1), gated: [][]bool{{false, true}, {false, false}},
		rank: m(90), base: m(0.5), stuck: m(1), gain: m(1.5), follow: 0.9,
		soft: []float64{8, math.Inf(1)}, hard: []float64{10, math.Inf(1)}, softR: m(5), hardR: m(6)}
}

// Every input of an allocation tells two allocations apart: a field
// added to allocation and not to its inputs would let a policy take
// another's split.
func TestAllocMemoCoversEveryInput(t *testing.T) {
	base := testAllocation()
	if !base.sameInputs(testAllocation()) || fnv(base.appendInputs(nil)) != fnv(testAllocation().appendInputs(nil)) {
		t.Fatal("equal allocations differ")
	}
	typ := reflect.TypeOf(allocation{})
	for i := range typ.NumField() {
		a := testAllocation()
		f := reflect.ValueOf(a).Elem().Field(i)
		f = reflect.NewAt(f.Type(), f.Addr().UnsafePointer()).Elem()
		switch v := f.Addr().Interface().(type) {
		case *[]float64:
			(*v)[0] = -(*v)[0] - 1
		case *[][]float64:
			(*v)[1][0] = math.Copysign(0, -1) // -0 against 0.25: bits differ
		case *[][]bool:
			(*v)[1][1] = !(*v)[1][1]
		case *float64:
			*v = math.Copysign(*v, -1)
		default:
			t.Fatalf("field %s of type %s: teach this test (and inputs) about it", typ.Field(i).Name, f.Type())
		}
		if base.sameInputs(a) {
			t.Errorf("allocations differing in %s have the same inputs", typ.Field(i).Name)
		}
	}
	// A nil gain (1 everywhere) is not a gain of zero regions.
	a, b := testAllocation(), testAllocation()
	a.gain, b.gain = nil, [][]float64{}
	if a.sameInputs(b) {
		t.Error("nil gain and empty gain have the same inputs")
	}
}

// A remembered allocation is the one allocate gives, and a copy: the
// caller may change it.
func TestAllocMemoGivesTheSameSplit(t *testing.T) {
	var m allocMemo
	want := testAllocation().allocate()
	first := m.allocate(testAllocation())
	second := m.allocate(testAllocation())
	if !reflect.DeepEqual(first, want) || !reflect.DeepEqual(second, want) {
		t.Fatalf("memo gave %v and %v, allocate %v", first, second, want)
	}
	second.share[0][0] = 42
	if third := m.allocate(testAllocation()); !reflect.DeepEqual(third, want) {
		t.Errorf("a caller's change reached the memo: %v", third)
	}
	if n := len(m.byHash); n != 1 {
		t.Errorf("%d entries for one input", n)
	}
}

// sameInputs reports whether a and b's inputs are equal bit for bit.
func (a *allocation) sameInputs(b *allocation) bool {
	return slices.Equal(a.appendInputs(nil), b.appendInputs(nil))
}
