// Package health turns CDN signals into scores and live weights, and owns
// the choice of a CDN for a client from those weights, so that the DNS
// answer, the explain endpoint and the simulator share one function.
package health

import (
	"encoding/binary"
	"math"
	"math/bits"
	"net/netip"
	"slices"
)

// Weights is an immutable split of traffic over a fixed, ordered set of
// CDNs. Index i of W is the weight of CDN i of the policy that built it.
type Weights struct {
	// W holds one non-negative weight per CDN; zero means "no new traffic".
	W []float64
	// seeds are per-CDN constants mixed into the rendezvous hash. They are
	// derived from the CDN name, never from anything per-instance, so two
	// servers with the same policy give a client the same CDN.
	seeds []uint64
	// TTL is the answers' TTL in seconds where the engine sets one other
	// than the policy's (ttl_in_flux, a schedule); 0 means the policy's.
	// It rides here so that the query path reads it with the weights.
	TTL uint32
	// TTLCause says why TTL is set, for explain.
	TTLCause string
	// Blind names the CDNs with no fresh health signal in the region,
	// Probation those of them re-admitted at a small share (blind.go),
	// for explain; the query path does not read them.
	Blind, Probation []string
	// holds marks the CDNs that keep the players already on them (Holds);
	// nil holds every CDN with weight.
	holds []bool
}

// NewWeights builds a weight vector over the named CDNs. names and w must
// have the same length; negative weights count as zero.
func NewWeights(names []string, w []float64) *Weights {
	return weightsSeeded(cdnSeeds(names), w)
}

// cdnSeeds is the seeds of the named CDNs.
func cdnSeeds(names []string) []uint64 {
	seeds := make([]uint64, len(names))
	for i, n := range names {
		seeds[i] = hashString(n)
	}
	return seeds
}

// weightsSeeded is NewWeights with the names' seeds made already: an
// evaluation shares one slice of them, never written, between the
// weights of all its policies and regions.
func weightsSeeded(seeds []uint64, w []float64) *Weights {
	return &Weights{W: usableInto(make([]float64, 0, len(w)), w), seeds: seeds}
}

// usableInto appends w to out with every weight that is not a positive
// finite number as 0.
func usableInto(out, w []float64) []float64 {
	for _, v := range w {
		if !(v > 0) || math.IsInf(v, 0) {
			v = 0
		}
		out = append(out, v)
	}
	return out
}

// orEqual returns w when it is equal to ws in every field, else a copy
// of ws, whose W may be scratch: the published table keeps the weights
// of a split that did not move, so that what is new each second is what
// moved (a thousand policies' 20,000 weights were a sixth of what an
// evaluation allocated).
func (w *Weights) orEqual(ws *Weights) *Weights {
	if w == nil || w.TTL != ws.TTL || w.TTLCause != ws.TTLCause || !slices.Equal(w.Blind, ws.Blind) ||
		!slices.Equal(w.Probation, ws.Probation) || !slices.Equal(w.holds, ws.holds) || (w.holds == nil) != (ws.holds == nil) ||
		!slices.Equal(w.seeds, ws.seeds) || !sameBits(w.W, ws.W) {
		out := *ws
		out.W = slices.Clone(ws.W)
		return &out
	}
	return w
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// Total is the sum of the weights.
func (ws *Weights) Total() float64 {
	var t float64
	for _, v := range ws.W {
		t += v
	}
	return t
}

// Pick chooses a CDN index for a client key by weighted rendezvous hashing
// (highest random weight): each CDN draws a pseudo-random score from
// hash(key, CDN) scaled by its weight, and the highest wins. The outcome for
// a key changes only when its winner's weight drops or another CDN's weight
// grows past it, so a weight change of x% moves about x% of the keys.
// It returns -1 when every weight is zero.
func (ws *Weights) Pick(key uint64) int {
	if len(ws.W) > maxPickInline {
		return ws.pickEach(key)
	}
	// The logarithm is the costliest step of an answer, and usually one
	// is enough: -ln(u) >= 2(1-u)/(1+u) on (0,1], so w(1+u)/(2(1-u))
	// bounds a CDN's score from above, tightly for the draws near 1 that
	// win. The CDN with the highest bound gets its exact score first; a
	// CDN whose bound cannot beat the best exact score so far is skipped.
	// The margin keeps rounding from ever changing the outcome.
	var draw, bound [maxPickInline]float64
	top, topBound := -1, math.Inf(-1)
	for i, w := range ws.W {
		if w <= 0 {
			continue
		}
		u := ws.draw(key, i)
		draw[i], bound[i] = u, w*(1+u)/(2*(1-u))
		if bound[i] > topBound {
			top, topBound = i, bound[i]
		}
	}
	if top < 0 {
		return -1
	}
	best, bestScore := top, -ws.W[top]/math.Log(draw[top])
	for i, w := range ws.W {
		if w <= 0 || i == top || bound[i] < bestScore*(1-1e-9) {
			continue
		}
		// Ties go to the lower index, as in pickEach.
		if s := -w / math.Log(draw[i]); s > bestScore || (s == bestScore && i < best) {
			best, bestScore = i, s
		}
	}
	return best
}

// maxPickInline is the most CDNs Pick handles with its bounds on the
// stack; longer lists take pickEach.
const maxPickInline = 16

// draw is CDN i's pseudo-random draw for key, uniform in (0,1); -w/ln(u)
// is the score of the standard weighted rendezvous scheme (Schindelhauer &
// Schomaker).
func (ws *Weights) draw(key uint64, i int) float64 {
	u := (float64(mix(key^ws.seeds[i])>>11) + 0.5) / (1 << 53)
	if u == 1 {
		// The top value rounds up to 1 (one key in 2^53): keep it the
		// highest draw without reaching ln(1) = 0.
		u = math.Nextafter(1, 0)
	}
	return u
}

// pickEach is Pick computing every CDN's exact score in index order.
func (ws *Weights) pickEach(key uint64) int {
	best, bestScore := -1, math.Inf(-1)
	for i, w := range ws.W {
		if w <= 0 {
			continue
		}
		if s := -w / math.Log(ws.draw(key, i)); s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

// mix is the splitmix64 finaliser: cheap, and every input bit affects every
// output bit, which rendezvous hashing needs for independent draws per CDN.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashString is FNV-1a 64, fixed so that seeds are stable across versions
// and machines.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}

// ClientKey folds a client subnet into a rendezvous key. Callers pass the
// address already masked to the subnet that should stick together (a /24
// for IPv4, a /56 for IPv6). hi and lo are the address's 128 bits.
func ClientKey(hi, lo uint64) uint64 {
	return mix(hi ^ bits.RotateLeft64(mix(lo), 17))
}

// SubnetBits is the prefix length of the subnet SubnetKey groups addr in.
func SubnetBits(addr netip.Addr) uint8 {
	if addr.Unmap().Is4() {
		return 24
	}
	return 56
}

// SubnetKey is the rendezvous key of the client subnet that addr belongs
// to: its /24 for IPv4 and its /56 for IPv6, so that the viewers behind one
// resolver or one ECS subnet stay together on one CDN.
func SubnetKey(addr netip.Addr) uint64 {
	addr = addr.Unmap()
	b := addr.As16()
	hi := binary.BigEndian.Uint64(b[:8])
	if addr.Is4() {
		// As16 of an IPv4 address is the v4-mapped form; keep the /24.
		lo := binary.BigEndian.Uint64(b[8:]) &^ 0xff
		return ClientKey(hi, lo)
	}
	return ClientKey(hi&^0xff, 0)
}
