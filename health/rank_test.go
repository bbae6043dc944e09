package health

import (
	"net/netip"
	"testing"
)

// TestRankFirstIsPick: the first pathway a player is given is the CDN the
// DNS answer gives the same key, whatever the weights.
func TestRankFirstIsPick(t *testing.T) {
	names := []string{"akamai", "cloudfront", "edgio", "fastly"}
	splits := [][]float64{{40, 30, 20, 10}, {0, 50, 0, 50}, {1, 1, 1, 1}, {0, 0, 0, 5}, {70, 0, 30, 0}}
	order := make([]int, len(names))
	for _, w := range splits {
		ws := NewWeights(names, w)
		for k := 0; k < 20000; k++ {
			key := SubnetKey(netip.AddrFrom4([4]byte{10, byte(k >> 8), byte(k), 0}))
			ws.Rank(key, order)
			if got, want := order[0], ws.Pick(key); got != want {
				t.Fatalf("weights %v key %x: Rank first %d, Pick %d", w, key, got, want)
			}
			seen := map[int]bool{}
			zeroSeen := false
			for _, i := range order {
				if seen[i] {
					t.Fatalf("weights %v: %d twice in %v", w, i, order)
				}
				seen[i] = true
				if ws.W[i] == 0 {
					zeroSeen = true
				} else if zeroSeen {
					t.Fatalf("weights %v: a CDN with weight after one without: %v", w, order)
				}
			}
		}
	}
}

func TestRankAllocatesNothing(t *testing.T) {
	ws := NewWeights([]string{"a", "b", "c"}, []float64{1, 2, 3})
	order := make([]int, 3)
	if n := testing.AllocsPerRun(100, func() { ws.Rank(SessionKey("s-1"), order) }); n != 0 {
		t.Fatalf("Rank allocates %.0f times", n)
	}
}
