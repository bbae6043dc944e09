package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// telemetry turns the simulated ground truth into the signals a real
// deployment would get, and hands them to the engine when they would
// arrive: per CDN and region, TTFB, errors and cache hits as probes and
// RUM beacons measure them; per CDN, delivered throughput as the CDN's
// log aggregate reports it (usually later).
type telemetry struct {
	cfg     Telemetry
	sc      *Scenario
	rng     *rand.Rand
	next    time.Time
	quality []pending
	traffic []pending
	faults  *faultState // nil without telemetry faults
}

// pending is a measurement on its way to the engine.
type pending struct {
	due time.Time
	sig health.Signal
}

// Source is the source name of simulated signals in the decision log.
const Source = "sim"

func newTelemetry(sc *Scenario) *telemetry {
	// Noise has its own stream so that changing it leaves the audience
	// population as it was.
	t := &telemetry{cfg: sc.Telemetry, sc: sc, next: sc.Start,
		rng: rand.New(rand.NewPCG(uint64(sc.Seed), 0x2545f4914f6cdd1d))}
	if len(sc.Telemetry.Faults) > 0 {
		t.faults = newFaultState(sc)
	}
	return t
}

// measure takes a measurement when one is due.
func (t *telemetry) measure(st *Step) {
	if st.Time.Before(t.next) {
		return
	}
	// The next measurement is the first tick after this step (an
	// interval shorter than the step measures every step).
	t.next = t.next.Add((st.Time.Sub(t.next)/t.cfg.Interval + 1) * t.cfg.Interval)
	sc := t.sc
	for ci, c := range sc.CDNs {
		total := 0.0
		for ri, reg := range sc.Regions {
			total += st.DeliveredGbps[ri][ci]
			// A region the scenario gives no viewers sends no beacons,
			// and draws no noise that other regions' measurements would
			// miss.
			if reg.Share > 0 {
				sig := health.Signal{CDN: c.Name, Region: reg.Name, Time: st.Time, Source: Source}
				if t.cfg.NoiseModel == NoiseSamples {
					t.sampled(&sig, st, ri, ci)
				} else {
					t.jittered(&sig, st, ri, ci)
				}
				t.send(&t.quality, sig, t.cfg.Delay, st.Elapsed, ci, ri)
			}
			// The CDN's log aggregate by region too: the engine plans
			// each region's split against its demand, and a regional
			// commit against what the CDN delivers there.
			t.send(&t.traffic, health.Signal{
				CDN: c.Name, Region: reg.Name, Time: st.Time, Source: Source, Values: health.Values{health.Throughput: health.F(st.DeliveredGbps[ri][ci])},
			}, t.cfg.ThroughputDelay, st.Elapsed, ci, ri)
		}
		// One all-regions value, as a CDN's own traffic report gives it:
		// the engine compares a CDN's total with its commit. It counts
		// bytes rather than sampling, so it carries no noise.
		t.send(&t.traffic, health.Signal{
			CDN: c.Name, Time: st.Time, Source: Source, Values: health.Values{health.Throughput: health.F(total)},
		}, t.cfg.ThroughputDelay, st.Elapsed, ci, -1)
	}
}

// jittered measures with the fixed relative noise. Samples are the
// viewers, as they always were.
func (t *telemetry) jittered(sig *health.Signal, st *Step, ri, ci int) {
	errRate := clamp01(st.ErrorRate[ri][ci] * t.jitter())
	miss := clamp01((1 - st.CacheHit[ri][ci]) * t.jitter())
	sig.Samples = int(max(1, st.Viewers[ri][ci]))
	sig.Values = health.Values{
		health.TTFB:      health.F(math.Max(0, st.TTFBMs[ri][ci]*t.jitter())),
		health.ErrorRate: health.F(errRate),
		health.CacheHit:  health.F(1 - miss),
	}
}

// sampled measures what the requests of one interval show: few requests,
// a rough measurement. Samples are the requests.
func (t *telemetry) sampled(sig *health.Signal, st *Step, ri, ci int) {
	n := t.cfg.requests(st.Viewers[ri][ci])
	sig.Samples = int(n)
	sig.Values = health.Values{
		health.TTFB:      health.F(sampleMean(t.rng, n, st.TTFBMs[ri][ci])),
		health.ErrorRate: health.F(sampleRate(t.rng, n, st.ErrorRate[ri][ci])),
		health.CacheHit:  health.F(1 - sampleRate(t.rng, n, 1-st.CacheHit[ri][ci])),
	}
}

// send queues sig, measured at elapsed about CDN ci in region ri (-1: all
// regions), to arrive delay later, stamped and faulted as the scenario
// says.
func (t *telemetry) send(q *[]pending, sig health.Signal, delay, elapsed time.Duration, ci, ri int) {
	due := sig.Time.Add(delay)
	if t.cfg.Stamp == StampArrival {
		sig.Time = due
	}
	if t.faults != nil && !t.faults.apply(&sig, elapsed, ci, ri) {
		return
	}
	*q = append(*q, pending{due, sig})
}

// deliver pushes every measurement that has arrived by now.
func (t *telemetry) deliver(now time.Time, eng *health.Engine) {
	t.quality = t.push(t.quality, now, eng)
	t.traffic = t.push(t.traffic, now, eng)
}

func (t *telemetry) push(q []pending, now time.Time, eng *health.Engine) []pending {
	n := 0
	for n < len(q) && !q[n].due.After(now) {
		eng.Push(q[n].sig)
		n++
	}
	if n == 0 {
		return q
	}
	// Shift rather than reslice so the queue's array does not grow
	// without bound over a long run.
	return append(q[:0], q[n:]...)
}

// jitter is a multiplicative measurement error around 1.
func (t *telemetry) jitter() float64 {
	if t.cfg.Noise == 0 {
		return 1
	}
	return math.Max(0, 1+t.cfg.Noise*t.rng.NormFloat64())
}

func clamp01(v float64) float64 { return math.Max(0, math.Min(1, v)) }
