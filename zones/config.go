// Package zones reads the TOML policy file, validates it, and compiles it
// into an immutable Snapshot that the DNS query path reads without locks.
package zones

import "time"

// File is the policy file as written by the operator, before validation.
// Pointers mark keys whose absence must be told apart from a zero value.
type File struct {
	Server  ServerConfig            `toml:"server"`
	Geo     GeoConfig               `toml:"geo"`
	Regions map[string][]string     `toml:"regions"`
	CDN     map[string]CDNConfig    `toml:"cdn"`
	Policy  map[string]PolicyConfig `toml:"policy"`
	Zone    []ZoneConfig            `toml:"zone"`
	// Prometheus is the optional shared telemetry source.
	Prometheus *PrometheusConfig `toml:"prometheus"`
	// RRL is response rate limiting for UDP.
	RRL *RRLConfig `toml:"rrl"`
}

// RRLConfig is the [rrl] table: response rate limiting, as in BIND and
// Knot, so that the server cannot be used to amplify floods.
type RRLConfig struct {
	Enabled            bool           `toml:"enabled"`
	ResponsesPerSecond *int           `toml:"responses_per_second"`
	NXDomainsPerSecond *int           `toml:"nxdomains_per_second"`
	ErrorsPerSecond    *int           `toml:"errors_per_second"`
	Window             *time.Duration `toml:"window"`
	Slip               *int           `toml:"slip"`
	IPv4Prefix         *int           `toml:"ipv4_prefix"`
	IPv6Prefix         *int           `toml:"ipv6_prefix"`
	Exempt             []string       `toml:"exempt"`
	LogOnly            bool           `toml:"log_only"`
	TableSize          *int           `toml:"table_size"`
}

// PrometheusConfig is the [prometheus] table: PromQL queries whose results
// carry a "cdn" label (and optionally "region"), one per signal.
type PrometheusConfig struct {
	URL      string            `toml:"url"`
	Interval *time.Duration    `toml:"interval"`
	Timeout  *time.Duration    `toml:"timeout"`
	Queries  map[string]string `toml:"queries"`
	// Samples optionally gives each series' sample count (e.g. request
	// rate), so that thin data weighs less.
	Samples string `toml:"samples"`
}

// ServerConfig is the [server] table.
type ServerConfig struct {
	DNS            []string `toml:"dns"`
	HTTP           *string  `toml:"http"`
	AdminTokenFile string   `toml:"admin_token_file"`
	DecisionLog    string   `toml:"decision_log"`
	// ChaosVersion and ChaosID answer CH TXT version.bind/version.server
	// and id.server/hostname.bind; unset, those queries are refused.
	ChaosVersion string `toml:"chaos_version"`
	ChaosID      string `toml:"chaos_id"`
}

// GeoConfig is the [geo] table.
type GeoConfig struct {
	Database string             `toml:"database"`
	ECS      *bool              `toml:"ecs"`
	Network  []GeoNetworkConfig `toml:"network"`
}

// GeoNetworkConfig is one [[geo.network]] override.
type GeoNetworkConfig struct {
	CIDR   string `toml:"cidr"`
	Region string `toml:"region"`
}

// CDNConfig is one [cdn.NAME] table.
type CDNConfig struct {
	Target     string       `toml:"target"`
	CommitGbps *float64     `toml:"commit_gbps"`
	Probe      *ProbeConfig `toml:"probe"`
}

// ProbeConfig is [cdn.NAME.probe]: an active HTTP probe of a test object.
type ProbeConfig struct {
	URL      string         `toml:"url"`
	Interval *time.Duration `toml:"interval"`
	Timeout  *time.Duration `toml:"timeout"`
	// Host overrides the Host header, for probing an edge by address.
	Host string `toml:"host"`
	// Address is a fixed host:port to connect to instead of resolving URL.
	Address string `toml:"address"`
}

// PolicyConfig is one [policy.NAME] table.
type PolicyConfig struct {
	TTL    *int64                        `toml:"ttl"`
	Region map[string]RegionPolicyConfig `toml:"region"`

	EvaluationInterval *time.Duration `toml:"evaluation_interval"`
	SignalMaxAge       *time.Duration `toml:"signal_max_age"`
	SmoothingDown      *float64       `toml:"smoothing_down"`
	SmoothingUp        *float64       `toml:"smoothing_up"`
	DownThreshold      *float64       `toml:"down_threshold"`
	UpThreshold        *float64       `toml:"up_threshold"`
	DownAfter          *int           `toml:"down_after"`
	UpAfter            *int           `toml:"up_after"`
	RecoveryStep       *float64       `toml:"recovery_step"`
	CapacitySoft       *float64       `toml:"capacity_soft"`
	CapacityHard       *float64       `toml:"capacity_hard"`
	StaticDrift        *time.Duration `toml:"static_drift"`
	Score              ScoreConfig    `toml:"score"`
}

// RegionPolicyConfig is [policy.NAME.region.REGION].
type RegionPolicyConfig struct {
	Weights map[string]float64 `toml:"weights"`
}

// ZoneConfig is one [[zone]].
type ZoneConfig struct {
	Origin     string   `toml:"origin"`
	NS         []string `toml:"ns"`
	Hostmaster string   `toml:"hostmaster"`
	// SOA timers and the default TTL of records; zero means the default.
	Serial  *int64         `toml:"serial"`
	Refresh *int64         `toml:"refresh"`
	Retry   *int64         `toml:"retry"`
	Expire  *int64         `toml:"expire"`
	Minimum *int64         `toml:"minimum"`
	TTL     *int64         `toml:"ttl"`
	Record  []RecordConfig `toml:"record"`
	Steer   []SteerConfig  `toml:"steer"`
}

// RecordConfig is one [[zone.record]]: one resource record.
type RecordConfig struct {
	Name  string `toml:"name"`
	Type  string `toml:"type"`
	Value string `toml:"value"`
	TTL   *int64 `toml:"ttl"`
}

// SteerConfig is one [[zone.steer]]: a name answered by a policy.
type SteerConfig struct {
	Name   string `toml:"name"`
	Policy string `toml:"policy"`
}
