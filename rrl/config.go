package rrl

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Defaults, as in BIND except the table size (BIND grows its table; ours
// is fixed so that a flood cannot grow it). They are declared here once:
// the policy file's [rrl] decodes into Config, and README.md documents
// them.
const (
	DefaultResponsesPerSecond = 20
	DefaultWindow             = 15 * time.Second
	DefaultSlip               = 2
	DefaultIPv4Prefix         = 24
	DefaultIPv6Prefix         = 56
	DefaultTableSize          = 65536
)

// Limits that Validate enforces. A per-second rate above MaxRate would
// not limit anything worth limiting, and the bucket arithmetic works in
// microseconds; the window and slip bounds are BIND's.
const (
	MaxRate      = 100000
	MinWindow    = time.Second
	MaxWindow    = time.Hour
	MaxSlip      = 10
	MinTableSize = slotsPerGroup
	MaxTableSize = 1 << 24
)

// Config is the rate-limiting policy: the policy file's [rrl] table as it
// decodes, one field per key (the toml tags).
//
// A zero rate, window, prefix or table size means the default. Slip is
// the exception: 0 means "always drop", so start from DefaultConfig (the
// policy loader decodes the file's keys over it).
type Config struct {
	// ResponsesPerSecond (responses_per_second) limits positive answers,
	// NODATA and referrals per key.
	ResponsesPerSecond int `toml:"responses_per_second"`
	// NXDomainsPerSecond (nxdomains_per_second) limits NXDOMAIN per
	// client network and zone; 0 means ResponsesPerSecond.
	NXDomainsPerSecond int `toml:"nxdomains_per_second"`
	// ErrorsPerSecond (errors_per_second) limits REFUSED, SERVFAIL,
	// FORMERR and the like per client network; 0 means
	// ResponsesPerSecond.
	ErrorsPerSecond int `toml:"errors_per_second"`
	// Window (window) is how long a limited client must slow down before
	// it is answered again: a bucket runs at most Window times the rate
	// into debt. Credit is capped at one second's rate, as in BIND, so a
	// fresh or idle key gets a burst of one second's worth.
	Window time.Duration `toml:"window"`
	// Slip (slip): every Slip-th limited response is sent truncated
	// instead of dropped; 0 drops them all, 1 truncates them all.
	Slip int `toml:"slip"`
	// IPv4Prefix (ipv4_prefix) and IPv6Prefix (ipv6_prefix) are the
	// prefix lengths that group client addresses into one network.
	IPv4Prefix int `toml:"ipv4_prefix"`
	IPv6Prefix int `toml:"ipv6_prefix"`
	// Exempt (exempt) clients are never limited (monitoring, say): CIDR
	// prefixes as written, so that a bad one is reported with the others
	// rather than stopping the file's decoding.
	Exempt []string `toml:"exempt"`
	// LogOnly (log_only) counts what would be limited and limits
	// nothing: for tuning the rates before an event.
	LogOnly bool `toml:"log_only"`
	// TableSize (table_size) is how many keys are tracked at most.
	TableSize int `toml:"table_size"`
}

// DefaultConfig is the policy with every key at its default.
func DefaultConfig() Config {
	return Config{
		ResponsesPerSecond: DefaultResponsesPerSecond,
		Window:             DefaultWindow,
		Slip:               DefaultSlip,
		IPv4Prefix:         DefaultIPv4Prefix,
		IPv6Prefix:         DefaultIPv6Prefix,
		TableSize:          DefaultTableSize,
	}
}

// Validate reports every bad key at once, so that an operator fixes them
// in one pass: nil, or an errors.Join of *keyerr.Error spelt as in the
// policy file ("slip", "exempt[2]").
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, keyerr.New(key, format, args...)) }
	rate := func(key string, v int) {
		if v < 0 || v > MaxRate {
			bad(key, "must be from 1 to %d per second (0 for the default), got %d", MaxRate, v)
		}
	}
	rate("responses_per_second", c.ResponsesPerSecond)
	rate("nxdomains_per_second", c.NXDomainsPerSecond)
	rate("errors_per_second", c.ErrorsPerSecond)
	if c.Window != 0 && (c.Window < MinWindow || c.Window > MaxWindow) {
		bad("window", "must be from %s to %s, got %s", MinWindow, MaxWindow, c.Window)
	}
	if c.Slip < 0 || c.Slip > MaxSlip {
		bad("slip", "must be from 0 (always drop) to %d, got %d", MaxSlip, c.Slip)
	}
	if c.IPv4Prefix < 0 || c.IPv4Prefix > 32 {
		bad("ipv4_prefix", "must be from 1 to 32 (0 for the default, %d), got %d", DefaultIPv4Prefix, c.IPv4Prefix)
	}
	if c.IPv6Prefix < 0 || c.IPv6Prefix > 128 {
		bad("ipv6_prefix", "must be from 1 to 128 (0 for the default, %d), got %d", DefaultIPv6Prefix, c.IPv6Prefix)
	}
	for i, e := range c.Exempt {
		if p, err := netip.ParsePrefix(e); err != nil || p.Masked() != p {
			bad(fmt.Sprintf("exempt[%d]", i), "%q is not a CIDR prefix without host bits", e)
		}
	}
	if c.TableSize != 0 && (c.TableSize < MinTableSize || c.TableSize > MaxTableSize) {
		bad("table_size", "must be from %d to %d, got %d", MinTableSize, MaxTableSize, c.TableSize)
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero fields that mean "the default".
func (c Config) withDefaults() Config {
	if c.ResponsesPerSecond == 0 {
		c.ResponsesPerSecond = DefaultResponsesPerSecond
	}
	if c.NXDomainsPerSecond == 0 {
		c.NXDomainsPerSecond = c.ResponsesPerSecond
	}
	if c.ErrorsPerSecond == 0 {
		c.ErrorsPerSecond = c.ResponsesPerSecond
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.IPv4Prefix == 0 {
		c.IPv4Prefix = DefaultIPv4Prefix
	}
	if c.IPv6Prefix == 0 {
		c.IPv6Prefix = DefaultIPv6Prefix
	}
	if c.TableSize == 0 {
		c.TableSize = DefaultTableSize
	}
	return c
}
