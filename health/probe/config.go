package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults for what a policy leaves unset. They match the policy file's
// documented defaults, so a Config built by hand behaves like one compiled
// from a policy.
const (
	DefaultInterval       = time.Second
	DefaultTimeout        = 800 * time.Millisecond
	DefaultMaxBytes int64 = 4 << 20
)

// Config is one CDN's probe, compiled from the policy's [cdn.NAME.probe].
// It is comparable: the Runner restarts a probe only when its Config
// changes.
type Config struct {
	// CDN names the CDN, as in the policy and in metric labels.
	CDN string
	// URL is the http:// or https:// test object, ideally a real video
	// segment so that the download rate means something.
	URL string
	// Interval is the time between probe starts (default 1s).
	Interval time.Duration
	// Timeout bounds the whole probe: connect, TLS, first byte and body
	// (default 800ms, at most the interval).
	Timeout time.Duration
	// Host overrides the Host header, to probe an edge by address.
	Host string
	// Address is a fixed "IP:port" to dial instead of resolving the URL's
	// host; TLS still verifies and sends SNI for the URL's host.
	Address string
	// MaxBytes caps the body read (default 4 MiB); the rate is computed on
	// what was read, so a large object cannot make a probe expensive.
	MaxBytes int64
}

// withDefaults fills unset fields. An unset timeout never exceeds the
// interval, so that a short interval alone is a valid probe.
func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = min(DefaultTimeout, c.Interval)
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	return c
}

// Validate reports a Config that would fail every probe for a reason that
// has nothing to do with the CDN. The Runner refuses such a probe rather
// than report the CDN as down because of a typo in the policy.
func (c Config) Validate() error {
	if c.CDN == "" {
		return errors.New("probe: cdn name is empty")
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return fmt.Errorf("probe %s: url: %w", c.CDN, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("probe %s: url %q: scheme must be http or https", c.CDN, c.URL)
	}
	if u.Host == "" {
		return fmt.Errorf("probe %s: url %q has no host", c.CDN, c.URL)
	}
	if c.Address != "" {
		if err := checkAddress(c.Address); err != nil {
			return fmt.Errorf("probe %s: %w", c.CDN, err)
		}
	}
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		return fmt.Errorf("probe %s: host %q is not a valid Host header", c.CDN, c.Host)
	}
	if c.Interval < 0 || c.Timeout < 0 || c.MaxBytes < 0 {
		return fmt.Errorf("probe %s: interval, timeout and max bytes must not be negative", c.CDN)
	}
	// A timeout longer than the interval would make probes back up behind
	// each other, so the effective rate would silently drop.
	if d := c.withDefaults(); d.Timeout > d.Interval {
		return fmt.Errorf("probe %s: timeout %s is longer than the interval %s", c.CDN, d.Timeout, d.Interval)
	}
	return nil
}

func checkAddress(a string) error {
	ap, err := netip.ParseAddrPort(a)
	if err != nil {
		return fmt.Errorf("address %q is not an IP:port address: %w", a, err)
	}
	if ap.Port() == 0 {
		return fmt.Errorf("address %q: port 0 cannot be dialled", a)
	}
	return nil
}
