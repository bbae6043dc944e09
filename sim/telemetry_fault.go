package sim

import (
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// TelemetryFault is a scripted failure of one CDN's telemetry, in one
// region or all: the service is what it is, but what reaches the engine
// about it stops, freezes or reads 0.
type TelemetryFault struct {
	// Name labels the fault on the timeline.
	Name   string
	CDN    string
	Region string // "" for all regions, the all-regions throughput included
	// Kinds are the keys of the kinds it touches (health.Kinds).
	Kinds []string
	// Start and End are offsets from the scenario's start; a measurement
	// taken in between is affected.
	Start time.Duration
	End   time.Duration
	Mode  TelemetryMode

	cdn    int
	region int // -1 for all
	kinds  kindSet
}

// TelemetryMode is how a telemetry fault fails. Where faults overlap on a
// kind, the greater mode wins: no data hides a stalled or frozen value.
type TelemetryMode int

const (
	// TelemetryFreeze repeats the last value delivered, stamped as new,
	// as an exporter that lost its source but still answers does.
	TelemetryFreeze TelemetryMode = iota + 1
	// TelemetryZero reads 0, as a rate over a counter that stopped
	// moving does: throughput 0, error rate 0.
	TelemetryZero
	// TelemetryStop delivers nothing: the values go stale.
	TelemetryStop
)

func (m TelemetryMode) String() string {
	return [...]string{"", "freeze", "zero", "stop"}[m]
}

func (m TelemetryMode) verb() string {
	return [...]string{"", "frozen", "read as 0", "stopped"}[m]
}

// kindSet holds kinds as bits.
type kindSet uint32

// faultState applies the telemetry faults to signals on their way to the
// engine. It keeps the last value delivered of every kind for every CDN
// and region, for a freeze to repeat.
type faultState struct {
	faults []TelemetryFault
	nR     int
	last   []health.Values // CDN × (all regions, then each region)
}

func newFaultState(sc *Scenario) *faultState {
	fs := &faultState{faults: sc.Telemetry.Faults, nR: len(sc.Regions)}
	fs.last = make([]health.Values, len(sc.CDNs)*(fs.nR+1))
	return fs
}

// apply changes sig, measured at elapsed about CDN ci in region ri (-1:
// all regions), as the faults in force say. It reports whether anything
// is left to deliver.
func (fs *faultState) apply(sig *health.Signal, elapsed time.Duration, ci, ri int) bool {
	var mode [health.NumKinds]TelemetryMode
	for i := range fs.faults {
		f := &fs.faults[i]
		if f.cdn != ci || (f.region >= 0 && f.region != ri) || elapsed < f.Start || elapsed >= f.End {
			continue
		}
		for k := range health.NumKinds {
			if f.kinds&(1<<k) != 0 && f.Mode > mode[k] {
				mode[k] = f.Mode
			}
		}
	}
	last := &fs.last[ci*(fs.nR+1)+ri+1]
	left := false
	for k := range health.NumKinds {
		if sig.Values[k] == nil {
			continue
		}
		switch mode[k] {
		case TelemetryStop:
			sig.Values[k] = nil
		case TelemetryZero:
			sig.Values[k] = health.F(0)
		case TelemetryFreeze:
			sig.Values[k] = last[k]
		}
		if sig.Values[k] != nil {
			last[k] = sig.Values[k]
			left = true
		}
	}
	return left
}
