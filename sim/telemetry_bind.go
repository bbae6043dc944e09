package sim

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/report"
)

// NoiseModel is where measurement noise comes from.
type NoiseModel int

const (
	// NoiseFixed multiplies every value by 1 + Noise × a standard normal
	// draw, whatever the number of requests behind it.
	NoiseFixed NoiseModel = iota
	// NoiseSamples draws every value from the requests measured: rates
	// from a binomial law, means with a standard error of σ/√n.
	NoiseSamples
)

// Stamp is the time a simulated signal carries.
type Stamp int

const (
	// StampMeasured stamps a signal with when it was measured, as a push
	// with its own timestamp does.
	StampMeasured Stamp = iota
	// StampArrival stamps it with when it reaches the engine, as a
	// Prometheus instant query does: a late value looks fresh.
	StampArrival
)

// DefaultRequestsPerViewerMinute is how many requests a player makes a
// minute: one 6-second segment every 6 seconds, the segment length most
// live HLS and DASH streams use. Manifest refreshes are left out: they are
// small, mostly served from the edge's memory, and not what RUM beacons
// time. README.md in zones/examples documents it.
const DefaultRequestsPerViewerMinute = 10.0

// telemetryModel reads the noise model, its request rate and the stamp
// into tm.
func (b *binder) telemetryModel(tm *Telemetry, t *telemetryFile) {
	tm.RequestsPerViewerMinute = DefaultRequestsPerViewerMinute
	switch v := t.Noise.(type) {
	case nil:
	case string:
		if v != "samples" {
			b.p.Add("telemetry.noise", "telemetry.noise = %q: give a relative noise (0..1) or \"samples\"", v)
		}
		tm.NoiseModel = NoiseSamples
	case float64:
		b.setF(&tm.Noise, &v, "telemetry.noise", 0, 1)
	case int64:
		f := float64(v)
		b.setF(&tm.Noise, &f, "telemetry.noise", 0, 1)
	default:
		b.p.Add("telemetry.noise", "telemetry.noise must be a relative noise (0..1) or \"samples\"")
	}
	b.setF(&tm.RequestsPerViewerMinute, t.RequestsPerViewerMinute, "telemetry.requests_per_viewer_minute", 0.01, 6000)
	switch t.Stamp {
	case "", "measured":
	case "arrival":
		tm.Stamp = StampArrival
	default:
		b.p.Add("telemetry.stamp", "telemetry.stamp = %q: give \"measured\" or \"arrival\"", t.Stamp)
	}
}

// telemetryFaults reads the scripted failures of the telemetry and puts a
// note on the timeline where each starts, since nothing else in the
// report shows them.
func (b *binder) telemetryFaults(fs []telemetryFaultFile) {
	cfg := b.sc.Policy.Config
	for i, ff := range fs {
		at := fmt.Sprintf("telemetry_fault[%d]", i)
		what := fmt.Sprintf("telemetry fault %d", i+1)
		f := TelemetryFault{Name: ff.Name, CDN: ff.CDN, Region: ff.Region, region: -1}
		if f.cdn = cfg.CDNIndex(ff.CDN); f.cdn < 0 {
			b.p.Add(at+".cdn", "%s: unknown cdn %q", what, ff.CDN)
		}
		if ff.Region != "" {
			if f.region = cfg.RegionIndex(ff.Region); f.region < 0 {
				b.p.Add(at+".region", "%s: unknown region %q", what, ff.Region)
			}
		}
		switch ff.Mode {
		case "stop":
			f.Mode = TelemetryStop
		case "freeze":
			f.Mode = TelemetryFreeze
		case "zero":
			f.Mode = TelemetryZero
		case "":
			b.p.Add(at, "%s needs mode = \"stop\", \"freeze\" or \"zero\"", what)
		default:
			b.p.Add(at+".mode", "%s: unknown mode %q (stop, freeze or zero)", what, ff.Mode)
		}
		f.kinds = b.telemetryKinds(ff.Kinds, ff.Region, at+".kinds", what)
		for k := range health.NumKinds {
			if f.kinds&(1<<k) != 0 {
				f.Kinds = append(f.Kinds, k.Key())
			}
		}
		var ok bool
		if f.Start, f.End, ok = b.window(at, what, ff.Start, ff.End, ff.Duration); !ok {
			continue
		}
		if f.Name == "" {
			f.Name = f.describe()
		}
		b.sc.Telemetry.Faults = append(b.sc.Telemetry.Faults, f)
		b.sc.Notes = append(b.sc.Notes, Note{At: f.Start, Text: f.Name, Tags: []string{"telemetry"}})
	}
	sort.SliceStable(b.sc.Notes, func(i, j int) bool { return b.sc.Notes[i].At < b.sc.Notes[j].At })
}

// window reads when a scripted event starts and ends: start, and end or
// duration.
func (b *binder) window(at, what string, start, end, dur *time.Duration) (from, to time.Duration, ok bool) {
	if start == nil {
		b.p.Add(at, "%s needs a start", what)
		return 0, 0, false
	}
	from = *start
	switch {
	case end != nil && dur != nil:
		b.p.Add(at+".end", "%s: give end or duration, not both", what)
		return 0, 0, false
	case end != nil:
		to = *end
	case dur != nil:
		to = from + *dur
	default:
		b.p.Add(at, "%s needs an end or a duration", what)
		return 0, 0, false
	}
	if to <= from || from < 0 {
		b.p.Add(at, "%s must end after it starts", what)
		return 0, 0, false
	}
	return from, to, true
}

// simulatedKinds are the kinds the simulator measures: per region, what
// probes and beacons see; for all regions, throughput.
var simulatedKinds = []health.Kind{health.TTFB, health.ErrorRate, health.CacheHit, health.Throughput}

// telemetryKinds reads a fault's kinds as a set; none named means every
// kind measured where the fault is.
func (b *binder) telemetryKinds(keys []string, region, at, what string) kindSet {
	var set kindSet
	if len(keys) == 0 {
		for _, k := range simulatedKinds {
			if region == "" || k != health.Throughput {
				set |= 1 << k
			}
		}
		return set
	}
	for _, key := range keys {
		k, ok := health.KindOf(key)
		switch {
		case !ok:
			b.p.Add(at, "%s: unknown kind %q (kinds: %s)", what, key, strings.Join(health.Keys(simulatedKinds), ", "))
		case !containsKind(simulatedKinds, k):
			b.p.Add(at, "%s: the simulator does not measure %s", what, key)
		case k == health.Throughput && region != "":
			b.p.Add(at, "%s: %s is reported for all regions at once, so a fault in region %q cannot touch it", what, key, region)
		default:
			set |= 1 << k
		}
	}
	return set
}

func containsKind(ks []health.Kind, k health.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// describe names a telemetry fault by what it does, for faults the file
// leaves unnamed.
func (f TelemetryFault) describe() string {
	where := "all regions"
	if f.Region != "" {
		where = f.Region
	}
	return fmt.Sprintf("telemetry of %s %s: %s %s for %s", f.CDN, where, strings.Join(f.Kinds, ", "), f.Mode.verb(), f.End-f.Start)
}

// requests is how many requests a CDN's viewers in a region make in one
// interval, and so how many samples its values summarise; at least one,
// a synthetic probe's, so that a CDN nobody watches is still measured.
func (tm *Telemetry) requests(viewers int64) float64 {
	return math.Max(1, math.Round(float64(viewers)*tm.RequestsPerViewerMinute*tm.Interval.Minutes()))
}

// noisePhrase and stampPhrase say how the telemetry is measured, for the
// report.
func (tm *Telemetry) noisePhrase() string {
	if tm.NoiseModel == NoiseSamples {
		return fmt.Sprintf("with the noise of the requests behind each value (%g a viewer a minute)", tm.RequestsPerViewerMinute)
	}
	return fmt.Sprintf("with %s noise", report.Percent(tm.Noise))
}

func (tm *Telemetry) stampPhrase() string {
	if tm.Stamp == StampArrival {
		return "; every signal stamped when it arrives, so late values look fresh"
	}
	return ""
}
