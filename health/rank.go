package health

import "math"

// Rank writes every CDN index of ws into order (which must hold len(ws.W)
// entries), best first: the CDNs with weight by their rendezvous score for
// key, so that order[0] is Pick(key), then the CDNs without weight in
// index order. Content steering sends the whole list to a player, whose
// fallbacks must follow the same hash the DNS answer does. It allocates
// nothing for up to maxPickInline CDNs.
func (ws *Weights) Rank(key uint64, order []int) {
	var inline [maxPickInline]float64
	var score []float64
	if len(ws.W) <= maxPickInline {
		score = inline[:len(ws.W)]
	} else {
		score = make([]float64, len(ws.W))
	}
	n := 0
	for i, w := range ws.W {
		if w <= 0 {
			continue
		}
		score[i] = -w / math.Log(ws.draw(key, i))
		// Insertion sort: a policy has a handful of CDNs. Equal scores
		// keep the lower index first, as Pick does.
		j := n
		for j > 0 && score[order[j-1]] < score[i] {
			order[j] = order[j-1]
			j--
		}
		order[j] = i
		n++
	}
	for i, w := range ws.W {
		if w <= 0 {
			order[n] = i
			n++
		}
	}
}

// SessionKey is the rendezvous key of a player session ID: stable across
// versions and instances, like the CDN seeds.
func SessionKey(sid string) uint64 {
	return mix(hashString(sid) ^ 0x5e55_1011_5e55_1011)
}
