package health

import (
	"testing"
	"time"
)

// players is what a CDN's reporting players say in a region: the share
// of n sessions rebuffering and a start-up time over n reports.
func players(cdn, region string, n int, rebuffer float64, at time.Time) []Signal {
	return []Signal{
		{CDN: cdn, Region: region, Time: at, Samples: n, Values: Values{RebufferRatio: F(rebuffer)}, Source: SourceCMCD},
		{CDN: cdn, Region: region, Time: at, Samples: n, Values: Values{StartupMs: F(1000)}, Source: SourceCMCD},
	}
}

// fastlyInKR is fastly's view in kr after 10 s of the CDNs' players
// reporting with n sessions each, one of fastly's two in two stalling.
func fastlyInKR(t *testing.T, n int) CDNView {
	t.Helper()
	e := NewEngine(testConfig(), nil)
	at := t0
	for range 10 {
		for _, c := range e.cfg.CDNs {
			r := 0.0
			if c.Name == "fastly" {
				r = 0.5
			}
			e.Push(players(c.Name, "kr", n, r, at)...)
		}
		e.Evaluate(at)
		at = at.Add(time.Second)
	}
	return e.View(at).Policies[0].Regions[1].CDNs[3]
}

// Scored on nothing but its players' reports, a CDN with fewer than
// min_samples (30) of them is not scored: 2 sessions, one stalling, leave
// fastly unmeasured at its baseline weight, though its 50 % rebuffering
// is shown. Before, they scored it 63 and cut its weight from 20 to 13.7.
// 40 sessions do count, and so does a push that gives no count (it
// counts as min_samples).
func TestFewPlayersAloneAreNotScored(t *testing.T) {
	few := fastlyInKR(t, 2)
	if few.Score != nil || few.Weight != 20 {
		t.Errorf("2 sessions: fastly in kr scored %v, weight %v; want no score, its baseline 20", deref(few.Score), few.Weight)
	}
	if v := few.Signals.Values[RebufferRatio]; v == nil || *v != 0.5 {
		t.Errorf("2 sessions: fastly's rebuffer_ratio shows %v, want 0.5", v)
	}
	for _, n := range []int{40, 0} {
		many := fastlyInKR(t, n)
		if many.Score == nil || *many.Score > 90 || many.Weight > 0.9*20 {
			t.Errorf("%d sessions: fastly in kr scored %v, weight %v; want its score and weight cut", n, deref(many.Score), many.Weight)
		}
	}
}

// Beside the probes, a few players' reports change nothing: fastly's
// score and weights are those of the probes alone, to the bit. Before,
// its rebuffering share counted in the blend.
func TestFewPlayersMoveNoScore(t *testing.T) {
	score := func(withPlayers bool) (float64, float64) {
		e := NewEngine(testConfig(), nil)
		at := t0
		for range 10 {
			for _, c := range e.cfg.CDNs {
				e.Push(good(c.Name, at))
				if withPlayers && c.Name == "fastly" {
					e.Push(players(c.Name, "kr", 2, 0.5, at)...)
				}
			}
			e.Evaluate(at)
			at = at.Add(time.Second)
		}
		v := e.View(at).Policies[0].Regions[1].CDNs[3]
		if v.Score == nil {
			t.Fatal("fastly in kr unscored beside its probes")
		}
		return *v.Score, v.Weight
	}
	s0, w0 := score(false)
	s1, w1 := score(true)
	if s1 != s0 || w1 != w0 {
		t.Errorf("fastly in kr with 2 players' reports: score %v, weight %v; with none %v, %v", s1, w1, s0, w0)
	}
}

// A region whose own probes count min_samples is judged alone, and a few
// players' reports there, which are not scored, do not make it less so:
// fastly's low score in kr (cache hits at 50 %, no gate crossed) degrades
// it there though the CDN as a whole scores above down_threshold. Before,
// 2 sessions made kr too thin to be judged alone and kept fastly in.
func TestFewPlayersKeepARegionJudgedAlone(t *testing.T) {
	degraded := func(withPlayers bool) Status {
		cfg := testConfig()
		cfg.Policies[0].Params.Score[CacheHit].Weight = 1
		e := NewEngine(cfg, nil)
		at := t0
		for range 10 {
			for _, c := range e.cfg.CDNs {
				e.Push(Signal{CDN: c.Name, Region: "default", Time: at, Samples: 1000, Source: "test",
					Values: Values{TTFB: F(120), ErrorRate: F(0.001), CacheHit: F(0.98)}})
				kr := Signal{CDN: c.Name, Region: "kr", Time: at, Samples: 1000, Source: "test",
					Values: Values{TTFB: F(120), ErrorRate: F(0.001), CacheHit: F(0.98)}}
				if c.Name == "fastly" {
					kr.Values = Values{TTFB: F(450), ErrorRate: F(0.015), CacheHit: F(0.5)}
					if withPlayers {
						e.Push(players(c.Name, "kr", 2, 0, at)...)
					}
				}
				e.Push(kr)
			}
			e.Evaluate(at)
			at = at.Add(time.Second)
		}
		return e.View(at).Policies[0].Regions[1].CDNs[3].Status
	}
	if st := degraded(false); st != Degraded {
		t.Fatalf("without players fastly is %s in kr; the test needs its score to degrade it", st)
	}
	if st := degraded(true); st != Degraded {
		t.Errorf("with 2 players' reports fastly is %s in kr, want degraded as without them", st)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
