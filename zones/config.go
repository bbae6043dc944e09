// Package zones reads the TOML policy file, validates it, and compiles it
// into an immutable Snapshot that the DNS query path reads without locks.
package zones

import (
	"time"

	"github.com/cdnsteer/cdnsteer/health/escalation"
	"github.com/cdnsteer/cdnsteer/health/probe"
	"github.com/cdnsteer/cdnsteer/health/prom"
	"github.com/cdnsteer/cdnsteer/rrl"
)

// File is the policy file as written by the operator, before validation.
// Pointers mark keys whose absence must be told apart from a zero value.
// A feature's section decodes straight into that feature's own config
// type, which declares its keys, defaults and bounds; the compiler
// resolves what it names (CDNs, regions) and places its errors.
type File struct {
	Server  ServerConfig            `toml:"server"`
	Geo     GeoConfig               `toml:"geo"`
	Regions map[string][]string     `toml:"regions"`
	CDN     map[string]CDNConfig    `toml:"cdn"`
	Policy  map[string]PolicyConfig `toml:"policy"`
	Zone    []ZoneConfig            `toml:"zone"`
	// Prometheus is the optional shared telemetry source.
	Prometheus *prom.Config `toml:"prometheus"`
	// RRL is response rate limiting for UDP.
	RRL *RRLConfig `toml:"rrl"`
	// Escalation sends escalations to Alertmanager.
	Escalation *escalation.Config `toml:"escalation"`
	// Fleet shares overrides, notes and pushed signals with the other
	// instances (compile_fleet.go).
	Fleet *FleetConfig `toml:"fleet"`
	// Steering serves HLS/DASH content steering to players
	// (compile_steering.go).
	Steering *SteeringConfig `toml:"steering"`
	// QoE tunes the players' CMCD reports (compile_qoe.go).
	QoE *QoEConfig `toml:"qoe"`
	// Dnstap logs a sample of the queries (compile_dnstap.go).
	Dnstap *DnstapConfig `toml:"dnstap"`
	// Plan and Schedule are the event's fallbacks and windows (plan.go).
	Plan     []PlanConfig     `toml:"plan"`
	Schedule []ScheduleConfig `toml:"schedule"`
}

// newFile is a File to decode a policy into: [rrl] starts from its
// defaults, since a slip of 0 is a setting (always drop), not "unset".
func newFile() *File {
	return &File{RRL: &RRLConfig{Config: rrl.DefaultConfig()}}
}

// RRLConfig is the [rrl] table: response rate limiting, as in BIND and
// Knot, so that the server cannot be used to amplify floods. Whether it
// runs is the policy's business; how is the limiter's.
type RRLConfig struct {
	Enabled bool `toml:"enabled"`
	rrl.Config
}

// ServerConfig is the [server] table.
type ServerConfig struct {
	DNS            []string `toml:"dns"`
	HTTP           *string  `toml:"http"`
	AdminTokenFile string   `toml:"admin_token_file"`
	// The admin listener's door (compile_http.go).
	HTTPOpenReads    *bool    `toml:"http_open_reads"`
	HTTPAllowedHosts []string `toml:"http_allowed_hosts"`
	HTTPTLSCert      string   `toml:"http_tls_cert"`
	HTTPTLSKey       string   `toml:"http_tls_key"`
	DecisionLog      string   `toml:"decision_log"`
	// SignalLog records every signal the engine receives, for
	// `cdnsteer simulate -replay`; the file is rotated at SignalLogMaxMB
	// and SignalLogKeep rotated files are kept.
	SignalLog      string `toml:"signal_log"`
	SignalLogMaxMB *int64 `toml:"signal_log_max_mb"`
	SignalLogKeep  *int   `toml:"signal_log_keep"`
	// ChaosVersion and ChaosID answer CH TXT version.bind/version.server
	// and id.server/hostname.bind; unset, those queries are refused.
	ChaosVersion string `toml:"chaos_version"`
	ChaosID      string `toml:"chaos_id"`
}

// GeoConfig is the [geo] table.
type GeoConfig struct {
	Database    string             `toml:"database"`
	ASNDatabase string             `toml:"asn_database"`
	ECS         *bool              `toml:"ecs"`
	Network     []GeoNetworkConfig `toml:"network"`
}

// GeoNetworkConfig is one [[geo.network]] override.
type GeoNetworkConfig struct {
	CIDR   string `toml:"cidr"`
	Region string `toml:"region"`
}

// CDNConfig is one [cdn.NAME] table.
type CDNConfig struct {
	Target     string   `toml:"target"`
	CommitGbps *float64 `toml:"commit_gbps"`
	// Region holds [cdn.NAME.region.REGION]: the CDN's PoPs there, where
	// they are contracted apart.
	Region map[string]CDNRegionConfig `toml:"region"`
	// Probe is an active HTTP probe of a test object.
	Probe *probe.Config `toml:"probe"`
	// Pathway is its content steering pathway ID; empty: the CDN name.
	Pathway string `toml:"pathway"`
}

// CDNRegionConfig is one [cdn.NAME.region.REGION] table.
type CDNRegionConfig struct {
	CommitGbps *float64 `toml:"commit_gbps"`
}

// PolicyConfig is one [policy.NAME] table.
type PolicyConfig struct {
	TTL    *int64                        `toml:"ttl"`
	Region map[string]RegionPolicyConfig `toml:"region"`
	// TTLInFlux is the steered TTL while a CDN of a region is degraded
	// or recovering.
	TTLInFlux *int64 `toml:"ttl_in_flux"`

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
	CapacityDeadBand   *float64       `toml:"capacity_dead_band"`
	CapacityMaxMove    *float64       `toml:"capacity_max_move"`
	FollowShare        *float64       `toml:"follow_share"`
	StaticDrift        *time.Duration `toml:"static_drift"`
	Score              ScoreConfig    `toml:"score"`
	// Gate is [policy.NAME.gate]; DeadBand, HoldDown and HoldDownMax
	// damp what the score and relapses do to the split (health/damping.go).
	Gate        GateConfig     `toml:"gate"`
	DeadBand    *float64       `toml:"dead_band"`
	HoldDown    *time.Duration `toml:"hold_down"`
	HoldDownMax *time.Duration `toml:"hold_down_max"`
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
	// DNSSEC signs the zone (zones/dnssec.go).
	DNSSEC *DNSSECConfig `toml:"dnssec"`
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
