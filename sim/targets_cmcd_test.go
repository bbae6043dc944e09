package sim

import (
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Eight players of 400,000 report CMCD, one of Fastly's two among the 1 %
// of sessions that stall (cmcd-few-players-scenario.toml): the stall
// reaches the engine, no CDN is degraded, and Fastly's weights are what
// they are with no player reporting, but for at most 10 s. Before b5738d8 Fastly was degraded
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

		// The stall may nudge Fastly's score (with telemetry 5 s late the
		// first evaluations score it on the players' reports alone), not
		// hold its share down.
		sc.QoE.CMCDShare = 0
		i, off := 0, 0
		rehearseRun(t, sc, func(st *Step, _ *health.Engine) {
			for ri := range cfg.Regions {
				if st.Weights[ri][fastly] != weights[i][ri] {
					off++
					break
				}
			}
			i++
		})
		t.Logf("fastly's weights differ from the run with no player reporting for %d s of %d", off, i)
		if limit := 10; off > limit {
			t.Errorf("fastly's weights differ from the run with no player reporting for %d s, want at most %d", off, limit)
		}
	})
}
