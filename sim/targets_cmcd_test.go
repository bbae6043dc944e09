package sim

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Eight players of 400,000 report CMCD, one of Fastly's two among the 1 %
// of sessions that stall (cmcd-few-players-scenario.toml): the stall
// reaches the engine, no CDN is degraded, and Fastly's weights are what
// they are with no player reporting: never cut, and the same but for at
// most 10 s, with rough telemetry too. Before b5738d8 Fastly was degraded
// in both regions on that one viewer, 12 times in 30 minutes, with
// 671,442 viewer switches instead of none.
func TestTargetOneStallingViewerDrainsNothing(t *testing.T) {
	rehearseEach(t, "cmcd-few-players-scenario.toml", func(t *testing.T, sc *Scenario) {
		cfg := sc.Policy.Config
		fastly := cfg.CDNIndex("fastly")
		var most float64 // Fastly's reporting sessions, all regions
		var stalled time.Duration = -1
		var weights [][]float64
		r := rehearseRun(t, sc, func(st *Step, eng *health.Engine) {
			var n float64
			row := make([]float64, len(cfg.Regions))
			for ri := range cfg.Regions {
				n += float64(st.Viewers[ri][fastly]) * sc.QoE.CMCDShare
				row[ri] = st.Weights[ri][fastly]
			}
			most = max(most, n)
			weights = append(weights, row)
			if stalled < 0 {
				for _, rv := range eng.View(st.Time).Policies[0].Regions {
					if v := rv.CDNs[fastly].Signals.Values[health.RebufferRatio]; v != nil && *v > 0 {
						stalled = st.Elapsed
					}
				}
			}
		})
		var degraded int
		for _, d := range r.rec.ds {
			if d.Kind == health.DecisionState && d.To == string(health.Degraded) {
				degraded++
				t.Errorf("%s degraded in %s at %s: %s", d.CDN, d.Region, d.Time.Sub(sc.Start), d.Reason)
			}
		}
		t.Logf("fastly: up to %.1f reporting sessions, a stall read from %v; %d degradations, %.0f viewer switches", most, stalled, degraded, r.pop.viewerSwitches())
		if most < 1 || most > 5 {
			t.Fatalf("fastly has up to %.1f reporting sessions; the rehearsal needs a handful", most)
		}
		if stalled < 0 {
			t.Fatal("no rebuffering of fastly's ever reached the engine: the rehearsal needs a stalling player")
		}

		// The stall moves no weight: a score built on 2 sessions of 400,000
		// viewers is not built at all. With telemetry 5 s late the first
		// evaluations have nothing but the players' reports; before
		// players.go they scored Fastly on them alone and cut it to 70 %
		// of its weight for 3 s (7,167 viewer switches). So Fastly's
		// weights are those of the run with no player reporting, never
		// cut by more than a rounding, and differ for at most 10 s.
		sc.QoE.CMCDShare = 0
		i, off := 0, 0
		var cut float64 // the deepest cut, as a share of the weight without players
		var cutAt time.Duration
		r0 := rehearseRun(t, sc, func(st *Step, _ *health.Engine) {
			differs := false
			for ri := range cfg.Regions {
				w, w0 := weights[i][ri], st.Weights[ri][fastly]
				differs = differs || w != w0
				if w0 > 0 && 1-w/w0 > cut {
					cut, cutAt = 1-w/w0, st.Elapsed
				}
			}
			if differs {
				off++
			}
			i++
		})
		t.Logf("fastly's weights differ from the run with no player reporting for %d s of %d, cut by at most %.1f %% (at %v); viewer switches %.0f, %.0f without players",
			off, i, 100*cut, cutAt, r.pop.viewerSwitches(), r0.pop.viewerSwitches())
		if limit := 10; off > limit {
			t.Errorf("fastly's weights differ from the run with no player reporting for %d s, want at most %d", off, limit)
		}
		if cut > 0.01 {
			t.Errorf("fastly's weight cut by %.1f %% at %v from the run with no player reporting, want none", 100*cut, cutAt)
		}
		if sw, sw0 := r.pop.viewerSwitches(), r0.pop.viewerSwitches(); sw > sw0 {
			t.Errorf("%.0f viewer switches, %.0f with no player reporting: the players' handful moved viewers", sw, sw0)
		}
	})
}
