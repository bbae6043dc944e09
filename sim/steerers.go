package sim

import (
	"math"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// maxSteeringTTL is the longest steering_ttl a scenario may set, the
// [steering] ttl's own bound (a day).
const maxSteeringTTL = 24 * time.Hour

// steering reads [players] steering_share and steering_ttl. The TTL
// defaults to what the policy's steering server would tell players.
func (b *binder) steering(p *Players, f *playersFile) {
	b.setF(&p.SteeringShare, f.SteeringShare, "players.steering_share", 0, 1)
	p.SteeringTTL = time.Duration(zones.DefaultSteeringTTL) * time.Second
	if st := b.snap.Steering; st != nil && st.TTL > 0 {
		p.SteeringTTL = time.Duration(st.TTL) * time.Second
	}
	if d := f.SteeringTTL; d != nil {
		// The manifest's TTL is whole seconds.
		if !(*d >= time.Second && *d <= maxSteeringTTL) {
			b.p.Add("players.steering_ttl", "steering_ttl = %s is outside 1s..24h (durations are strings such as \"30s\")", *d)
		} else {
			p.SteeringTTL = *d
		}
	}
}

// steerers are the viewers whose players use content steering, a share
// of every group. Without a session ID the steering server ranks a
// player's subnet as DNS picks it, so the group's steering players are
// one block too; unlike the rest they ask again every steering TTL, each
// group at its own phase, and move mid-session.
type steerers struct {
	share  float64
	period int64 // steps between two asks of a group
	// cdn is each group's steering players' pathway; asked the
	// generation of its region's weights they last asked with.
	cdn   []int16
	asked []int32
	// units is region × CDN: the units whose steering players are on
	// the CDN.
	units    [][]int64
	switched float64
}

func newSteerers(sc *Scenario, groups []group, units [][]int64) *steerers {
	s := &steerers{share: sc.Players.SteeringShare, period: int64(steps(sc.Players.SteeringTTL, sc.Step)),
		cdn: make([]int16, len(groups)), asked: make([]int32, len(groups))}
	for ri := range units {
		s.units = append(s.units, append([]int64(nil), units[ri]...))
	}
	for i := range groups {
		s.cdn[i] = groups[i].cdn
	}
	return s
}

// ask has the groups whose turn it is at step k ask the steering server
// with the live weights. As steering/ answers: a player stays on its
// pathway while the engine says that CDN holds its players
// (health.Weights.Holds: healthy, not recovering, not capped), and
// otherwise takes the first of the ranking, which is Pick for its
// subnet. A group whose region's weights are those it last asked with
// gets the same answer and is not asked.
func (s *steerers) ask(p *population, k int64, weights []*health.Weights) {
	var audience float64
	for i := int(k % s.period); i < len(p.groups); i += int(s.period) {
		g := &p.groups[i]
		if s.asked[i] == p.gen[g.region] {
			continue
		}
		s.asked[i] = p.gen[g.region]
		w, c := weights[g.region], s.cdn[i]
		if w.Holds(int(c)) {
			continue
		}
		n := int16(w.Pick(g.key))
		if n < 0 || n == c {
			continue
		}
		if audience == 0 {
			audience = p.sc.Curve.At(time.Duration(k) * p.sc.Step)
		}
		s.switched += s.share * audience * p.sc.Regions[g.region].Share * float64(g.units) / unitsPerRegion
		s.units[g.region][c] -= g.units
		s.units[g.region][n] += g.units
		s.cdn[i] = n
	}
}

// mix sets units, where each region's viewers are, from dns, where they
// would be if none used steering, and the steering players: in whole
// units adding up to unitsPerRegion.
func (s *steerers) mix(dns, units [][]int64) {
	for ri, d := range dns {
		total, largest := int64(0), 0
		for c := range d {
			u := int64(math.Round((1-s.share)*float64(d[c]) + s.share*float64(s.units[ri][c])))
			units[ri][c] = u
			total += u
			if u > units[ri][largest] {
				largest = c
			}
		}
		if total > 0 {
			units[ri][largest] += unitsPerRegion - total
		}
	}
}
