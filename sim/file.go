package sim

import "time"

// scenarioFile is a scenario file as written, before defaults and checks.
// Pointers mark keys whose absence must be told apart from a zero value.
type scenarioFile struct {
	Name           string         `toml:"name"`
	Policy         string         `toml:"policy"`
	Start          *time.Time     `toml:"start"`
	Duration       *time.Duration `toml:"duration"`
	Step           *time.Duration `toml:"step"`
	OutputInterval *time.Duration `toml:"output_interval"`
	Seed           *int64         `toml:"seed"`

	Audience   audienceFile          `toml:"audience"`
	Region     map[string]regionFile `toml:"region"`
	Telemetry  telemetryFile         `toml:"telemetry"`
	Players    playersFile           `toml:"players"`
	QoE        qoeFile               `toml:"qoe"`
	Quality    qualityFile           `toml:"quality"`
	CDN        map[string]cdnFile    `toml:"cdn"`
	Fault      []faultFile           `toml:"fault"`
	TelFault   []telemetryFaultFile  `toml:"telemetry_fault"`
	Override   []overrideFile        `toml:"override"`
	Annotation []annotationFile      `toml:"annotation"`
	Plan       []planActivationFile  `toml:"plan_activation"`
	Compare    *bool                 `toml:"compare"`
}

type audienceFile struct {
	BitrateMbps  *float64    `toml:"bitrate_mbps"`
	StartViewers *float64    `toml:"start_viewers"`
	Points       []pointFile `toml:"points"`
	Phase        []phaseFile `toml:"phase"`
}

type pointFile struct {
	At      *time.Duration `toml:"at"`
	Viewers *float64       `toml:"viewers"`
}

type phaseFile struct {
	Name     string         `toml:"name"`
	Shape    string         `toml:"shape"`
	Duration *time.Duration `toml:"duration"`
	Viewers  *float64       `toml:"viewers"`
	Rise     *time.Duration `toml:"rise"`
	Settle   *float64       `toml:"settle"`
	Annotate *bool          `toml:"annotate"`
}

type regionFile struct {
	Share        *float64       `toml:"share"`
	BitrateMbps  *float64       `toml:"bitrate_mbps"`
	Resolvers    *int           `toml:"resolvers"`
	ResolverSkew *float64       `toml:"resolver_skew"`
	ECSShare     *float64       `toml:"ecs_share"`
	ECSSubnets   *int           `toml:"ecs_subnets"`
	StretchShare *float64       `toml:"stretch_share"`
	StretchTTL   *time.Duration `toml:"stretch_ttl"`
	// ASN splits the region's viewers by the AS of their ISP: AS
	// number to share (see asnSplit).
	ASN map[string]float64 `toml:"asn"`
}

type telemetryFile struct {
	Interval        *time.Duration `toml:"interval"`
	Delay           *time.Duration `toml:"delay"`
	ThroughputDelay *time.Duration `toml:"throughput_delay"`
	// Noise is a number (the fixed relative noise) or "samples".
	Noise                   any      `toml:"noise"`
	Stamp                   string   `toml:"stamp"`
	RequestsPerViewerMinute *float64 `toml:"requests_per_viewer_minute"`
}

type telemetryFaultFile struct {
	Name     string         `toml:"name"`
	CDN      string         `toml:"cdn"`
	Region   string         `toml:"region"`
	Kinds    []string       `toml:"kinds"`
	Start    *time.Duration `toml:"start"`
	End      *time.Duration `toml:"end"`
	Duration *time.Duration `toml:"duration"`
	Mode     string         `toml:"mode"`
}

// qualityFile is a [quality] table; every key is optional so that a CDN's
// or a region's table overrides only what it names.
type qualityFile struct {
	TTFBMs            *float64 `toml:"ttfb_ms"`
	ErrorRate         *float64 `toml:"error_rate"`
	CacheHit          *float64 `toml:"cache_hit"`
	Knee              *float64 `toml:"knee"`
	TTFBAtCommitMs    *float64 `toml:"ttfb_at_commit_ms"`
	ErrorAtCommit     *float64 `toml:"error_at_commit"`
	CacheHitAtCommit  *float64 `toml:"cache_hit_at_commit"`
	TTFBAtCeilingMs   *float64 `toml:"ttfb_at_ceiling_ms"`
	ErrorAtCeiling    *float64 `toml:"error_at_ceiling"`
	CacheHitAtCeiling *float64 `toml:"cache_hit_at_ceiling"`
}

type cdnFile struct {
	CommitGbps  *float64                 `toml:"commit_gbps"`
	CeilingGbps *float64                 `toml:"ceiling_gbps"`
	Quality     qualityFile              `toml:"quality"`
	Region      map[string]cdnRegionFile `toml:"region"`
	Billing     *billingFile             `toml:"billing"`
}

type billingFile struct {
	Model               string   `toml:"model"`
	CommitGbps          *float64 `toml:"commit_gbps"`
	CommitTB            *float64 `toml:"commit_tb"`
	PricePerGbps        *float64 `toml:"price_per_gbps"`
	PricePerTB          *float64 `toml:"price_per_tb"`
	OveragePricePerGbps *float64 `toml:"overage_price_per_gbps"`
	OveragePricePerTB   *float64 `toml:"overage_price_per_tb"`
}

type cdnRegionFile struct {
	CommitGbps  *float64    `toml:"commit_gbps"`
	CeilingGbps *float64    `toml:"ceiling_gbps"`
	Quality     qualityFile `toml:"quality"`
}

type faultFile struct {
	Name      string         `toml:"name"`
	CDN       string         `toml:"cdn"`
	Region    string         `toml:"region"`
	Start     *time.Duration `toml:"start"`
	End       *time.Duration `toml:"end"`
	Duration  *time.Duration `toml:"duration"`
	TTFBAddMs *float64       `toml:"ttfb_add_ms"`
	ErrorRate *float64       `toml:"error_rate"`
	CacheHit  *float64       `toml:"cache_hit"`

	RebufferRatio *float64 `toml:"rebuffer_ratio"`
	StartupMs     *float64 `toml:"startup_ms"`
}

type overrideFile struct {
	Action   string         `toml:"action"`
	CDN      string         `toml:"cdn"`
	Region   string         `toml:"region"`
	At       *time.Duration `toml:"at"`
	Duration *time.Duration `toml:"duration"`
	Reason   string         `toml:"reason"`
}

type annotationFile struct {
	At   *time.Duration `toml:"at"`
	Text string         `toml:"text"`
	Tags []string       `toml:"tags"`
}

type planActivationFile struct {
	Plan   string         `toml:"plan"`
	At     *time.Duration `toml:"at"`
	TTL    *time.Duration `toml:"ttl"`
	End    *time.Duration `toml:"end"`
	Reason string         `toml:"reason"`
	By     string         `toml:"by"`
}
