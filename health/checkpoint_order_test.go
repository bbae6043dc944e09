package health

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// The checkpoint's order is the joined keys' order, names with bytes
// below, at and above "/" and prefixes of each other included.
func TestCmpJoinedIsTheJoinedOrder(t *testing.T) {
	parts := []string{"", "a", "a-b", "a.b", "a/b", "ab", "a0", "b", "p1", "p1-x", "p10", "p1/"}
	rnd := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return parts[rnd.IntN(len(parts))] }
	sign := func(v int) int { return min(max(v, -1), 1) }
	for range 20000 {
		a, b := stateKey{pick(), pick(), pick()}, stateKey{pick(), pick(), pick()}
		if got, want := sign(cmpJoined(a, b)), strings.Compare(joined(a), joined(b)); got != want {
			t.Fatalf("cmpJoined(%q, %q) = %d, joined order %d", joined(a), joined(b), got, want)
		}
	}
}
