package health

import (
	"math"
	"net/netip"
	"testing"
)

var cdns = []string{"akamai", "cloudfront", "edgio", "fastly"}

func pickShares(ws *Weights, n int) []float64 {
	counts := make([]float64, len(ws.W))
	for i := 0; i < n; i++ {
		counts[ws.Pick(ClientKey(0, uint64(i)<<8))]++
	}
	for i := range counts {
		counts[i] /= float64(n)
	}
	return counts
}

func TestPickFollowsWeights(t *testing.T) {
	for _, w := range [][]float64{{40, 15, 20, 25}, {1, 1, 1, 1}, {97, 1, 1, 1}, {0, 0, 5, 0}} {
		ws := NewWeights(cdns, w)
		got := pickShares(ws, 50000)
		for i := range w {
			want := w[i] / ws.Total()
			if math.Abs(got[i]-want) > 0.01 {
				t.Errorf("weights %v: %s got %.3f, want %.3f", w, cdns[i], got[i], want)
			}
		}
	}
}

func TestPickNoWeights(t *testing.T) {
	if got := NewWeights(cdns, []float64{0, 0, -1, math.Inf(1)}).Pick(42); got != -1 {
		t.Errorf("Pick with no usable weight = %d, want -1", got)
	}
}

// TestPickMovesOnlyWhatTheWeightsMove checks rendezvous stability: taking
// x% of the traffic from one CDN moves about x% of the keys, all of them
// away from that CDN.
func TestPickMovesOnlyWhatTheWeightsMove(t *testing.T) {
	before := NewWeights(cdns, []float64{40, 15, 20, 25})
	after := NewWeights(cdns, []float64{30, 15, 20, 25}) // akamai 40% → 33.3% of the total
	const n = 100000
	moved, movedOther := 0, 0
	for i := 0; i < n; i++ {
		k := ClientKey(uint64(i), uint64(i)*7919)
		a, b := before.Pick(k), after.Pick(k)
		if a != b {
			moved++
			if a != 0 {
				movedOther++
			}
		}
	}
	want := 0.40 - 30.0/90.0
	if got := float64(moved) / n; math.Abs(got-want) > 0.01 {
		t.Errorf("moved %.3f of keys, want about %.3f", got, want)
	}
	t.Logf("moved %.4f of %d keys (want about %.4f), %d of them not from akamai", float64(moved)/n, n, want, movedOther)
	if movedOther != 0 {
		t.Errorf("%d keys moved that were not on the CDN whose weight fell", movedOther)
	}
}

func TestPickIsDeterministicAcrossInstances(t *testing.T) {
	a := NewWeights(cdns, []float64{40, 15, 20, 25})
	b := NewWeights([]string{"akamai", "cloudfront", "edgio", "fastly"}, []float64{40, 15, 20, 25})
	for i := uint64(0); i < 1000; i++ {
		if a.Pick(i) != b.Pick(i) {
			t.Fatalf("two weight tables built alike disagree on key %d", i)
		}
	}
}

func TestSubnetKey(t *testing.T) {
	same := [][2]string{
		{"198.51.100.1", "198.51.100.254"},
		{"::ffff:198.51.100.1", "198.51.100.9"},
		{"2001:db8:0:ff00::1", "2001:db8:0:ffaa:1:2:3:4"},
	}
	for _, p := range same {
		if SubnetKey(netip.MustParseAddr(p[0])) != SubnetKey(netip.MustParseAddr(p[1])) {
			t.Errorf("%s and %s should share a key", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"198.51.100.1", "198.51.101.1"},
		{"2001:db8:0:ff00::1", "2001:db8:0:fe00::1"},
		{"10.0.0.1", "::a00:1"},
	}
	for _, p := range differ {
		if SubnetKey(netip.MustParseAddr(p[0])) == SubnetKey(netip.MustParseAddr(p[1])) {
			t.Errorf("%s and %s should not share a key", p[0], p[1])
		}
	}
}

func BenchmarkPick(b *testing.B) {
	ws := NewWeights(cdns, []float64{40, 15, 20, 25})
	k := SubnetKey(netip.MustParseAddr("203.0.113.9"))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ws.Pick(k + uint64(i))
	}
}

func TestPickShortcutChangesNothing(t *testing.T) {
	for _, w := range [][]float64{{40, 15, 20, 25}, {1, 1, 1, 1}, {97, 1, 1, 1}, {0, 3, 0, 1}, {1e-6, 1e6, 3, 4}} {
		ws := NewWeights(cdns, w)
		for k := uint64(0); k < 200000; k++ {
			key := ClientKey(k, k*2654435761)
			if a, b := ws.Pick(key), ws.pickEach(key); a != b {
				t.Fatalf("weights %v key %d: Pick %d, without the shortcut %d", w, key, a, b)
			}
		}
	}
}

// unmix inverts mix, to build the key whose draw is the highest possible.
func unmix(x uint64) uint64 {
	inverse := func(a uint64) uint64 { // of an odd a, modulo 2^64 (Newton)
		x := a
		for range 6 {
			x *= 2 - a*x
		}
		return x
	}
	x ^= x>>31 ^ x>>62
	x *= inverse(0x94d049bb133111eb)
	x ^= x>>27 ^ x>>54
	x *= inverse(0xbf58476d1ce4e5b9)
	x ^= x>>30 ^ x>>60
	return x
}

func TestHighestDrawIsStillADraw(t *testing.T) {
	ws := NewWeights([]string{"akamai", "fastly"}, []float64{1, 1})
	key := unmix(^uint64(0)) ^ ws.seeds[0]
	if mix(key^ws.seeds[0]) != ^uint64(0) {
		t.Fatal("unmix does not invert mix")
	}
	if u := ws.draw(key, 0); !(u > 0 && u < 1) {
		t.Fatalf("draw %v, want inside (0,1)", u)
	}
	// The highest draw wins against an equal weight, on both paths.
	if a, b := ws.Pick(key), ws.pickEach(key); a != 0 || b != 0 {
		t.Errorf("Pick %d, pickEach %d, want 0 (the highest draw)", a, b)
	}
}
