package sim

import (
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/qoe"
	"github.com/cdnsteer/cdnsteer/zones"
)

// QoE is what the viewers' players feel and report by CMCD (the
// scenario's [qoe]). Players that report do so to the same collector
// `serve` runs (package qoe), whose windows reach the engine every
// second as signals of source cmcd.
type QoE struct {
	// CMCDShare is the share of viewers whose players report CMCD; 0 (the
	// default) is none, and the run is what it was without [qoe].
	CMCDShare float64
	// RebufferRatio is the share of sessions a healthy CDN's window finds
	// rebuffering, StartupMs the start-up time its players see; faults
	// ([[fault]] rebuffer_ratio, startup_ms) and undelivered traffic
	// worsen them.
	RebufferRatio float64
	StartupMs     float64
	// ReportInterval is how often a player sends a report (CMCD v2
	// event mode's time-interval reports).
	ReportInterval time.Duration
	// Collector is the policy's [qoe] (sample and window), qoe's defaults
	// when the policy has none.
	Collector qoe.Config
}

// Defaults of [qoe]. README.md in zones/examples documents them.
const (
	DefaultRebufferRatio  = 0.01
	DefaultStartupMs      = 1000.0
	DefaultReportInterval = 10 * time.Second
)

// qoeFile is the scenario's [qoe] table.
type qoeFile struct {
	CMCDShare      *float64       `toml:"cmcd_share"`
	RebufferRatio  *float64       `toml:"rebuffer_ratio"`
	StartupMs      *float64       `toml:"startup_ms"`
	ReportInterval *time.Duration `toml:"report_interval"`
}

// qoe reads [qoe], and the policy's own [qoe] the collector runs with.
func (b *binder) qoe(f *qoeFile) {
	q := QoE{RebufferRatio: DefaultRebufferRatio, StartupMs: DefaultStartupMs, ReportInterval: DefaultReportInterval,
		Collector: qoe.Config{Sample: zones.DefaultQoESample, Window: zones.DefaultQoEWindow}}
	if pq := b.snap.QoE; pq != nil {
		q.Collector = qoe.Config{Sample: pq.Sample, Window: pq.Window}
	}
	b.setF(&q.CMCDShare, f.CMCDShare, "qoe.cmcd_share", 0, 1)
	b.setF(&q.RebufferRatio, f.RebufferRatio, "qoe.rebuffer_ratio", 0, 1)
	b.setF(&q.StartupMs, f.StartupMs, "qoe.startup_ms", 0, health.StartupMs.Info().Max)
	if v := f.ReportInterval; v != nil {
		if *v < time.Second || *v > 10*time.Minute {
			b.p.Add("qoe.report_interval", "report_interval = %s is outside 1s..10m", *v)
		} else {
			q.ReportInterval = *v
		}
	}
	b.sc.QoE = q
}
