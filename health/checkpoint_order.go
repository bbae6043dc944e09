package health

import (
	"slices"
	"strings"
)

// orderedState is a CDN state in the checkpoint's order.
type orderedState struct {
	k stateKey
	s *cdnState
}

// checkpointOrder is every CDN state the engine holds, in the order a
// checkpoint lists them: sorted again only when there are new ones (a
// state, once made, is kept), since sorting 120,000 states was most of a
// minutely checkpoint's cost at 1,000 steered names.
func (e *Engine) checkpointOrder() []orderedState {
	if len(e.ckptOrder) == len(e.cdns) {
		return e.ckptOrder
	}
	order := make([]orderedState, 0, len(e.cdns))
	for k, s := range e.cdns {
		order = append(order, orderedState{k, s})
	}
	slices.SortFunc(order, func(a, b orderedState) int { return cmpJoined(a.k, b.k) })
	e.ckptOrder = order
	return order
}

// cmpJoined orders state keys as strings.Compare orders
// policy+"/"+region+"/"+cdn, the checkpoint's order since its first
// version, without joining them for each comparison.
func cmpJoined(a, b stateKey) int {
	parts := [3][2]string{{a.policy, b.policy}, {a.region, b.region}, {a.cdn, b.cdn}}
	for i, p := range parts {
		x, y := p[0], p[1]
		if x == y {
			continue
		}
		n := min(len(x), len(y))
		for j := range n {
			if x[j] != y[j] {
				return int(x[j]) - int(y[j])
			}
		}
		// One is a prefix of the other.
		if i == len(parts)-1 {
			return len(x) - len(y) // the joined strings end: shorter first
		}
		// The shorter goes on with "/", the longer with c.
		var c byte
		sign := 1
		if len(x) < len(y) {
			c = y[n]
		} else {
			c, sign = x[n], -1
		}
		switch {
		case c > '/':
			return -sign
		case c < '/':
			return sign
		}
		return strings.Compare(joined(a), joined(b)) // a name with "/"
	}
	return 0
}

func joined(k stateKey) string { return k.policy + "/" + k.region + "/" + k.cdn }
