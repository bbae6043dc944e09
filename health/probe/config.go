package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Defaults of what a policy leaves unset, here once: the policy file's
// [cdn.NAME.probe] decodes into Config and README.md documents them.
const (
	DefaultInterval       = time.Second
	DefaultTimeout        = 800 * time.Millisecond
	DefaultMaxBytes int64 = 4 << 20
)

// Config is one CDN's probe, the policy's [cdn.NAME.probe] as it decodes
// (the toml tags are its keys); a zero field means its default. It is
// comparable: the Runner restarts a probe only when its Config changes.
type Config struct {
	// CDN names the CDN, as in the policy and in metric labels; the policy
	// loader sets it from the table's name.
	CDN string `toml:"-"`
	// URL is the http:// or https:// test object, ideally a real video
	// segment so that the download rate means something.
	URL string `toml:"url"`
	// Interval is the time between probe starts (default 1s).
	Interval time.Duration `toml:"interval"`
	// Timeout bounds the whole probe: connect, TLS, first byte and body
	// (default 800ms, at most the interval).
	Timeout time.Duration `toml:"timeout"`
	// Host overrides the Host header, to probe an edge by address.
	Host string `toml:"host"`
	// Address is a fixed "IP:port" to dial instead of resolving the URL's
	// host; TLS still verifies and sends SNI for the URL's host.
	Address string `toml:"address"`
	// MaxBytes caps the body read (default 4 MiB); the rate is computed on
	// what was read, so a large object cannot make a probe expensive. No
	// policy key sets it.
	MaxBytes int64 `toml:"-"`
	// Regions are the regions the probe speaks for (regions.go); none
	// is every region.
	Regions Regions `toml:"regions"`
}

// WithDefaults is c with its unset fields filled: the probe that runs, and
// what the policy check shows. An unset timeout never exceeds the
// interval, so that a short interval alone is a valid probe.
func (c Config) WithDefaults() Config {
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

// Validate reports every setting that would fail each probe for a reason
// that has nothing to do with the CDN, as *keyerr.Error naming the policy
// key, joined. The Runner refuses such a probe rather than report the CDN
// as down because of a typo in the policy.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, keyerr.New(key, format, args...)) }
	if c.CDN == "" {
		errs = append(errs, errors.New("probe: cdn name is empty"))
	}
	if u, err := url.Parse(c.URL); err != nil {
		bad("url", "%v", err)
	} else if u.Scheme != "http" && u.Scheme != "https" {
		bad("url", "%q: scheme must be http or https", c.URL)
	} else if u.Host == "" {
		bad("url", "%q has no host", c.URL)
	}
	if c.Address != "" {
		if ap, err := netip.ParseAddrPort(c.Address); err != nil {
			bad("address", "%q is not an IP:port address: %v", c.Address, err)
		} else if ap.Port() == 0 {
			bad("address", "%q: port 0 cannot be dialled", c.Address)
		}
	}
	if msg := c.Regions.validate(); msg != "" {
		bad("regions", "%s", msg)
	}
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		bad("host", "%q is not a valid Host header", c.Host)
	}
	for _, n := range []struct {
		key string
		v   int64
	}{{"interval", int64(c.Interval)}, {"timeout", int64(c.Timeout)}, {"max_bytes", c.MaxBytes}} {
		if n.v < 0 {
			bad(n.key, "must not be negative")
		}
	}
	// A timeout longer than the interval would make probes back up behind
	// each other, so the effective rate would silently drop.
	if d := c.WithDefaults(); d.Timeout > d.Interval {
		errs = append(errs, &keyerr.Error{Key: "timeout", Related: []string{"interval"},
			Msg: fmt.Sprintf("%s is longer than the interval %s", d.Timeout, d.Interval)})
	}
	return errors.Join(errs...)
}
