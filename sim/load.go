package sim

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// Defaults of the scenario file. README.md in zones/examples documents
// them; keep the two in step.
const (
	DefaultBitrateMbps  = 5.0
	DefaultResolvers    = 200
	DefaultResolverSkew = 0.8
	DefaultECSShare     = 0.5
	DefaultECSSubnets   = 32
	DefaultStretchShare = 0.05
	DefaultStretchTTL   = 5 * time.Minute
	DefaultNoise        = 0.02
	DefaultSeed         = 1
	// DefaultCeilingFactor sets a CDN's ceiling from its commit when the
	// scenario gives none: bursting a quarter over commit is usual.
	DefaultCeilingFactor = 1.25
)

// DefaultStart is the virtual start time when the scenario gives none.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// LoadScenario reads the scenario file at path and binds it to a policy of
// snap. Every problem comes back at once, as FILE:LINE: message.
func LoadScenario(path string, snap *zones.Snapshot) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(path, data, snap)
}

// ParseScenario is LoadScenario for a document in memory; name is used in
// error messages.
func ParseScenario(name string, data []byte, snap *zones.Snapshot) (*Scenario, error) {
	var f scenarioFile
	p, err := zones.DecodeTOML(name, data, &f)
	if err != nil {
		return nil, err
	}
	sc := &Scenario{File: name}
	b := &binder{p: p, sc: sc, snap: snap}
	b.bind(&f)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return sc, nil
}

// binder applies defaults and checks a decoded scenario against its
// policy, recording every problem.
type binder struct {
	p    *zones.ErrorList
	sc   *Scenario
	snap *zones.Snapshot
}

func (b *binder) bind(f *scenarioFile) {
	sc := b.sc
	if !b.policy(f.Policy) {
		return
	}
	sc.Name = f.Name
	if sc.Name == "" {
		sc.Name = "scenario " + sc.File
	}
	sc.Start = DefaultStart
	if f.Start != nil {
		sc.Start = f.Start.UTC()
	}
	sc.Step = sc.Policy.Params.EvalInterval
	if f.Step != nil {
		sc.Step = *f.Step
		if sc.Step <= 0 {
			b.p.Add("step", "step must be positive")
		}
	}
	if f.OutputInterval != nil {
		sc.OutputInterval = *f.OutputInterval
		if sc.OutputInterval < 0 {
			b.p.Add("output_interval", "output_interval must not be negative")
		}
	}
	sc.Seed = DefaultSeed
	if f.Seed != nil {
		sc.Seed = *f.Seed
	}
	b.curve(&f.Audience)
	sc.Duration = sc.Curve.End()
	if f.Duration != nil {
		sc.Duration = *f.Duration
	}
	switch {
	case sc.Duration <= 0:
		b.p.Add("duration", "duration must be positive (set it, or give the audience curve a length)")
	case sc.Duration < sc.Step:
		b.p.Add("duration", "duration %s is shorter than one step (%s); durations are strings such as \"3h\"", sc.Duration, sc.Step)
	}
	b.regions(f)
	b.telemetry(&f.Telemetry)
	b.players(&f.Players)
	b.qoe(&f.QoE)
	b.cdns(f)
	b.faults(f.Fault)
	b.overrides(f.Override)
	b.notes(f.Annotation)
	b.plans(f.Plan)
	sc.Compare = f.Compare == nil || *f.Compare
	b.telemetryFaults(f.TelFault)
}

// policy binds the scenario to the named policy, or to the only one.
func (b *binder) policy(name string) bool {
	ps := b.snap.Policies
	var pol *zones.Policy
	switch {
	case name != "":
		pol = b.snap.PolicyByName(name)
		if pol == nil {
			b.p.Add("policy", "unknown policy %q", name)
			return false
		}
	case len(ps) == 1:
		pol = ps[0]
	default:
		b.p.Add("policy", "the policy file has %d policies: say which with policy = NAME", len(ps))
		return false
	}
	cfg := b.snap.Health()
	b.sc.Policy = Policy{Name: pol.Name, Index: cfg.PolicyIndex(pol.Name), TTL: time.Duration(pol.TTL) * time.Second, Params: pol.Params, Config: cfg}
	return true
}

// setF copies an optional number into dst, checking its range.
func (b *binder) setF(dst *float64, v *float64, at string, lo, hi float64) {
	if v == nil {
		return
	}
	if !(*v >= lo && *v <= hi) {
		b.p.Add(at, "%s = %g is outside %g..%g", lastKey(at), *v, lo, hi)
		return
	}
	*dst = *v
}

func (b *binder) setI(dst *int, v *int, at string, lo, hi int) {
	if v == nil {
		return
	}
	if *v < lo || *v > hi {
		b.p.Add(at, "%s = %d is outside %d..%d", lastKey(at), *v, lo, hi)
		return
	}
	*dst = *v
}

func lastKey(path string) string {
	return path[strings.LastIndex(path, ".")+1:]
}
