// Package sim rehearses a live event in virtual time: an audience curve,
// a region mix, CDN capacities and scripted faults drive the real health
// engine and the real selection (health.Weights.Pick over simulated
// resolver subnets), and the run yields per-interval data, the decision
// log and a report. Nothing sleeps and nothing touches the network: the
// engine is evaluated at explicit virtual times.
package sim

import (
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// Scenario is an event to rehearse, bound to the policy it runs against.
// LoadScenario fills every default; the command line may still change
// Seed and Step before Run.
type Scenario struct {
	// File is where the scenario was read from; Name is its title.
	File string
	Name string
	// Policy is the steering policy the audience is answered by.
	Policy Policy
	// Start is the virtual wall-clock time of the first step.
	Start time.Time
	// Duration is how long the event runs (default: the curve's end).
	Duration time.Duration
	// Step is the simulation step; defaults to the policy's evaluation
	// interval. The engine is evaluated on its own interval regardless.
	Step time.Duration
	// OutputInterval is the granularity of the CSV and JSON series; 0
	// means every step. It is rounded up to a whole number of steps.
	OutputInterval time.Duration
	// Seed decides the resolver population and the measurement noise.
	Seed int64

	// Curve is the concurrent audience over time.
	Curve Curve
	// Regions and CDNs are index-aligned with Policy.Config's.
	Regions   []Region
	CDNs      []CDN
	Telemetry Telemetry
	Players   Players
	// QoE is what the players report by CMCD (qoe.go).
	QoE QoE
	// Faults are scripted degradations, Overrides an operator's actions
	// (in time order), Notes the annotations on the timeline.
	Faults    []Fault
	Overrides []Action
	Notes     []Note
	// Plans are an operator's activations and endings of the policy's
	// plans, in time order (plans.go).
	Plans []PlanAction
	// Compare asks Run for the same event without the plans and without
	// the TTL changes as well, to tell what each changed (compare.go).
	Compare bool
}

// Policy is what the simulator needs of a compiled policy file.
type Policy struct {
	Name string
	// Index is the policy's place in Config.Policies.
	Index int
	// TTL is how long a resolver that honours TTLs keeps an answer.
	TTL time.Duration
	// Params are the policy's scoring and steering settings; Config is
	// the whole policy file as the engine sees it.
	Params health.Params
	Config health.Config
}

// Region is one region's audience and resolver population.
type Region struct {
	// Name is the policy's region name.
	Name string
	// Share is the region's part of the audience; shares sum to 1.
	Share       float64
	BitrateMbps float64
	// Resolvers is how many recursive resolvers serve the region's
	// viewers. Their sizes follow a Zipf law of exponent ResolverSkew
	// (0: all equal), because a few ISPs serve most viewers.
	Resolvers    int
	ResolverSkew float64
	// ECSShare of the resolvers send EDNS Client Subnet; each of those
	// splits its viewers over ECSSubnets client subnets, every one picked
	// on its own. The others are one block: all their viewers share one
	// answer.
	ECSShare   float64
	ECSSubnets int
	// StretchShare of the resolvers keep answers for StretchTTL instead
	// of the policy's TTL, so their viewers follow a shift late.
	StretchShare float64
	StretchTTL   time.Duration
	// From names the region whose viewers on the ASes this region lists
	// ("asn:N") the scenario moved here ([region.FROM.asn]); "" if none.
	From string
}

// CDN is one CDN's capacity and how its service degrades under load.
type CDN struct {
	// Name is the policy's CDN name.
	Name string
	// CommitGbps is the contracted commit (the policy's commit_gbps unless
	// the scenario sets one); 0 means unknown: no load effects.
	CommitGbps float64
	// CeilingGbps is what it can deliver at most; demand above it is not
	// delivered. 0 means no ceiling.
	CeilingGbps float64
	// Regions are index-aligned with Scenario.Regions.
	Regions []CDNRegion
	// Billing is how it bills the event; nil when the scenario does not
	// say.
	Billing *Billing
}

// CDNRegion is a CDN's capacity and quality in one region. A region
// without a commit of its own shares the CDN's global capacity.
type CDNRegion struct {
	// CommitGbps and CeilingGbps are the region's own; 0: none.
	CommitGbps  float64
	CeilingGbps float64
	// Quality is the load curve in force here: [quality], overridden by
	// the CDN's, overridden by the region's.
	Quality Quality
}

// Quality says how a CDN's service worsens as utilisation of its commit
// grows: constant up to Knee, then linear to the AtCommit values at
// utilisation 1, then linear to the AtCeiling values at the ceiling.
type Quality struct {
	// The service at low load, and the utilisation where it starts to
	// worsen.
	TTFBMs    float64
	ErrorRate float64
	CacheHit  float64
	Knee      float64

	TTFBAtCommitMs   float64
	ErrorAtCommit    float64
	CacheHitAtCommit float64

	TTFBAtCeilingMs   float64
	ErrorAtCeiling    float64
	CacheHitAtCeiling float64
}

// Telemetry is how what happens reaches the engine: every Interval the
// simulator measures each CDN in each region (what probes and RUM beacons
// report: TTFB, errors, cache hits) and each CDN's delivered throughput
// (what CDN log aggregates report), and delivers them after a delay.
type Telemetry struct {
	// Interval is how often everything is measured; Delay how late
	// TTFB, errors and cache hits arrive, ThroughputDelay how late
	// throughput does.
	Interval        time.Duration
	Delay           time.Duration
	ThroughputDelay time.Duration
	// Noise is the relative standard deviation of the measurement noise
	// of TTFB, errors and cache misses (throughput is counted, not
	// sampled, and has none), under NoiseFixed.
	Noise float64
	// NoiseModel says where the noise comes from; under NoiseSamples each
	// value is drawn from the requests measured in an interval: a CDN's
	// viewers in a region × RequestsPerViewerMinute × Interval.
	NoiseModel              NoiseModel
	RequestsPerViewerMinute float64
	// Stamp is the time a signal carries.
	Stamp Stamp
	// Faults are scripted failures of the telemetry itself, in file
	// order.
	Faults []TelemetryFault
}

// Fault is a scripted degradation of one CDN, in one region or all.
// Effects combine: TTFB grows by TTFBAddMs, the error rate is at least
// ErrorRate and the cache hit ratio at most CacheHit.
type Fault struct {
	// Name labels the fault in the report.
	Name   string
	CDN    string
	Region string // "" for all regions
	// Start and End are offsets from the scenario's start.
	Start time.Duration
	End   time.Duration

	// The effects; ErrorRate 0 and CacheHit 1 change nothing.
	TTFBAddMs float64
	ErrorRate float64
	CacheHit  float64
	// What the players feel, reported by CMCD (qoe.go): the share of
	// sessions rebuffering is at least RebufferRatio, the start-up time
	// at least StartupMs; 0 changes nothing.
	RebufferRatio float64
	StartupMs     float64

	cdn    int
	region int // -1 for all
}

// Action is an operator's override, put in force at At through
// Engine.AddOverride as the API would.
type Action struct {
	// Action is drain, pin or freeze; CDN and Region as the API takes
	// them.
	Action string
	CDN    string
	Region string
	// At is the offset it is set at; it expires Duration later.
	At       time.Duration
	Duration time.Duration
	// Reason goes in the decision log.
	Reason string
}

// Note is an annotation on the timeline, recorded in the decision log as
// an operator's note would be.
type Note struct {
	// At is an offset from the scenario's start.
	At   time.Duration
	Text string
	Tags []string
}
