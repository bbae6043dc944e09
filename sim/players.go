package sim

import (
	"math"
	"time"
)

// Players is how the viewers' players follow DNS. A player resolves the
// stream's name when it starts and keeps its connection to that CDN for
// the session: a new answer reaches it only if it re-resolves.
type Players struct {
	// FollowDNS is the share of viewers whose player moves as soon as its
	// resolver's answer changes; 1 is every viewer (the default).
	FollowDNS float64
	// Session is the mean session length: sessions end at random at rate
	// 1/Session and the viewer comes straight back through DNS, taking
	// the resolver's current answer. 0: sessions outlast the event.
	Session time.Duration
	// ReloadErrorRate, when Reload is set: a player on a CDN failing at
	// least this share of requests reloads and takes its resolver's
	// current answer.
	ReloadErrorRate float64
	Reload          bool
	// SteeringShare is the share of viewers whose player uses content
	// steering: it asks the steering server again every SteeringTTL and
	// moves whatever its resolver's answer (steerers.go). The rest
	// follow DNS as FollowDNS says.
	SteeringShare float64
	SteeringTTL   time.Duration
}

// DefaultFollowDNS is every viewer following its resolver's answer at
// once, the simulator's behaviour before [players] existed.
const DefaultFollowDNS = 1.0

// sticky reports whether some viewers stay where they started when
// their resolver's answer changes.
func (p Players) sticky() bool { return p.FollowDNS < 1 }

// playersFile is the [players] table.
type playersFile struct {
	FollowDNS       *float64       `toml:"follow_dns"`
	SessionMinutes  *float64       `toml:"session_minutes"`
	ReloadErrorRate *float64       `toml:"reload_error_rate"`
	SteeringShare   *float64       `toml:"steering_share"`
	SteeringTTL     *time.Duration `toml:"steering_ttl"`
}

// players reads the [players] table.
func (b *binder) players(f *playersFile) {
	p := Players{FollowDNS: DefaultFollowDNS}
	b.setF(&p.FollowDNS, f.FollowDNS, "players.follow_dns", 0, 1)
	if m := f.SessionMinutes; m != nil {
		if !(*m > 0 && *m <= 1e6) {
			b.p.Add("players.session_minutes", "session_minutes = %g is outside 0..1e+06 (leave it out for sessions that last the whole event)", *m)
		} else {
			p.Session = time.Duration(*m * float64(time.Minute))
		}
	}
	if f.ReloadErrorRate != nil {
		b.setF(&p.ReloadErrorRate, f.ReloadErrorRate, "players.reload_error_rate", 0, 1)
		p.Reload = true
	}
	b.steering(&p, f)
	b.sc.Players = p
}

// forget is the decay that takes every stray viewer out of the count: an
// audience growing from nothing consists of newcomers only.
const forget = 1000

// stickiness follows the viewers who do not follow DNS (strays: on
// another CDN than their resolver's current answer) without modelling
// them one by one. Each group keeps the share of its non-following
// viewers on each CDN; the region keeps their sum by the answer their
// groups hold. Between two answers of a group its strays only dwindle —
// sessions end and come back on the answer, newcomers join on it, and
// players on a failing CDN reload onto it — at rates every group shares,
// so a group's shares are brought up to date only when its answer
// changes, and the region's sums are scaled every step.
type stickiness struct {
	cfg    Players
	follow float64
	// churn is the part of a step's sessions that end, as a decay
	// exponent (step ÷ mean session).
	churn float64
	// decay is the sum over the steps so far of every stray's decay
	// exponent (churn, and the dilution of a growing audience).
	decay    float64
	audience float64 // at the previous step
	nC       int
	// stray is region × answer × CDN: the region's units whose
	// non-following viewers hold the answer but sit on the CDN,
	// ÷ unitsPerRegion.
	stray [][][]float64
	// share is group × CDN: the part of the group's non-following
	// viewers on each CDN other than its answer, as of decay at[group];
	// since[group] is the step it was brought up to date at.
	share []float64
	at    []float64
	since []int64
	// reloaded is region × CDN: the last step its strays reloaded.
	reloaded [][]int64
	// switched counts strays that moved (sessions ending on another CDN
	// than the answer, reloads).
	switched float64
}

func newStickiness(sc *Scenario, groups int) *stickiness {
	nR, nC := len(sc.Regions), len(sc.CDNs)
	s := &stickiness{cfg: sc.Players, follow: sc.Players.FollowDNS, nC: nC,
		share: make([]float64, groups*nC), at: make([]float64, groups), since: make([]int64, groups),
		audience: sc.Curve.At(0)}
	if sc.Players.Session > 0 {
		s.churn = float64(sc.Step) / float64(sc.Players.Session)
	}
	for range nR {
		m := make([][]float64, nC)
		for a := range m {
			m[a] = make([]float64, nC)
		}
		s.stray = append(s.stray, m)
		r := make([]int64, nC)
		for c := range r {
			r[c] = -1
		}
		s.reloaded = append(s.reloaded, r)
	}
	for i := range s.since {
		s.since[i] = -1
	}
	return s
}

// advance takes the strays from step k-1 to step k: sessions end and
// come back on their resolver's answer, newcomers join on it, the
// departing leave every CDN alike, and players on a CDN that failed at
// least reload_error_rate of requests at the previous step (prev)
// reload.
func (s *stickiness) advance(sc *Scenario, k int64, prev *Step) {
	audience := sc.Curve.At(time.Duration(k) * sc.Step)
	loss := s.churn
	if k > 0 && audience > s.audience {
		if s.audience <= 0 {
			loss += forget
		} else {
			loss += math.Log(audience / s.audience)
		}
	}
	ended := -math.Expm1(-s.churn)
	keep := math.Exp(-loss)
	for ri, m := range s.stray {
		viewers := audience * sc.Regions[ri].Share * (1 - s.follow) * (1 - sc.Players.SteeringShare)
		for c := 0; c < s.nC; c++ {
			reload := k > 0 && s.cfg.Reload && prev.ErrorRate[ri][c] >= s.cfg.ReloadErrorRate
			if reload {
				s.reloaded[ri][c] = k
			}
			for a := range m {
				x := m[a][c]
				if x == 0 {
					continue
				}
				if reload {
					s.switched += viewers * x
					m[a][c] = 0
					continue
				}
				s.switched += viewers * x * ended
				m[a][c] = x * keep
			}
		}
	}
	s.decay += loss
	s.audience = audience
}

// move changes group i's answer from a to b at step k. Its strays are
// brought up to date; its non-following viewers on a stay there, now
// strays, and those on b are on the answer again.
func (s *stickiness) move(i int32, g *group, a, b int16, k int64) {
	sh := s.share[int(i)*s.nC : int(i+1)*s.nC]
	m := s.stray[g.region]
	w := float64(g.units) / unitsPerRegion
	fade := math.Exp(s.at[i] - s.decay)
	on := 1.0
	for c, x := range sh {
		if x == 0 {
			continue
		}
		if s.reloaded[g.region][c] > s.since[i] {
			x = 0
		} else {
			x *= fade
		}
		m[a][c] = max(0, m[a][c]-w*x)
		sh[c] = x
		on -= x
	}
	sh[a], sh[b] = max(0, on), 0
	for c, x := range sh {
		m[b][c] += w * x
	}
	s.at[i], s.since[i] = s.decay, k
}

// place sets units, where each region's viewers are, from answers, the
// units whose resolvers hold each CDN's answer, and the strays: in whole
// units that add up to unitsPerRegion as answers do.
func (s *stickiness) place(answers, units [][]int64) {
	scale := (1 - s.follow) * unitsPerRegion
	for ri, m := range s.stray {
		total, largest := int64(0), 0
		for c := range units[ri] {
			net := 0.0
			for a := range m {
				net += m[a][c] - m[c][a]
			}
			u := max(0, answers[ri][c]+int64(math.Round(scale*net)))
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
