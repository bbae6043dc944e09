package sim

import "sort"

// apportion splits total into integer parts proportional to weights
// (largest remainder), so the parts always add up to total exactly. Ties
// go to the lower index, which keeps the split deterministic.
func apportion(total int64, weights []float64, out []int64) {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	for i := range out {
		out[i] = 0
	}
	if sum <= 0 || total <= 0 {
		return
	}
	rems := make([]remainder, len(weights))
	left := total
	for i, w := range weights {
		q := float64(total) * w / sum
		out[i] = int64(q)
		left -= out[i]
		rems[i] = remainder{i, q - float64(out[i])}
	}
	distribute(left, rems, out)
}

// splitUnits splits total viewers over CDNs in proportion to the units
// each holds (units add up to unitsPerRegion), exactly, in integers.
func splitUnits(total int64, units []int64, out []int64, rems []remainder) {
	left := total
	for i, u := range units {
		prod := total * u
		out[i] = prod / unitsPerRegion
		left -= out[i]
		rems[i] = remainder{i, float64(prod%unitsPerRegion) / unitsPerRegion}
	}
	distribute(left, rems[:len(units)], out)
}

type remainder struct {
	i    int
	frac float64
}

// distribute hands the left-over units, one each, to the largest
// remainders.
func distribute(left int64, rems []remainder, out []int64) {
	if left <= 0 {
		return
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].frac > rems[b].frac })
	for k := 0; left > 0 && len(rems) > 0; k = (k + 1) % len(rems) {
		out[rems[k].i]++
		left--
	}
}
