package prom

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Defaults for the Config fields left zero, here once: the policy file's
// [prometheus] decodes into Config and README.md documents them.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 3 * time.Second
)

// Config is the policy's [prometheus] table as it decodes (the toml tags
// are its keys); a zero field means its default.
type Config struct {
	// URL is the Prometheus server's base address, e.g.
	// http://127.0.0.1:9090; the HTTP API lives under it at /api/v1.
	URL string `toml:"url"`
	// Interval is the time between the starts of two rounds of queries;
	// zero means DefaultInterval.
	Interval time.Duration `toml:"interval"`
	// Timeout bounds each round, so that a slow Prometheus cannot pile
	// rounds up; it is also sent as the server-side query timeout. Zero
	// means DefaultTimeout (or the interval, when that is shorter).
	Timeout time.Duration `toml:"timeout"`
	// Queries maps a signal to a PromQL instant query whose result vector
	// carries a "cdn" label and optionally a "region" label. Keys: the key
	// of each kind that health's kinds table lets Prometheus feed; any
	// non-empty subset.
	Queries map[string]string `toml:"queries"`
	// Samples is an optional PromQL instant query giving the sample count
	// per cdn (and region), e.g. the request rate. A signal takes the count
	// of the series with the same cdn and region; without one it counts 1.
	Samples string `toml:"samples"`
	// Timestamps maps a signal of Queries to a PromQL instant query giving,
	// per cdn (and region), the Unix time in seconds of the newest data
	// behind that signal's series, e.g.
	// max by (cdn, region) (timestamp(rum_beacons_total)). An instant
	// query stamps every series with the instant it was asked for, so
	// without this a feed minutes late would look fresh.
	Timestamps map[string]string `toml:"timestamps"`
	// Stamp is StampData (the default: every query needs its Timestamps
	// entry) or StampQuery (series are dated at the query's instant, for
	// data that cannot lag, and lag goes unseen).
	Stamp string `toml:"stamp"`
	// Auth holds the bearer token, basic auth, CA and client certificate
	// options (auth.go); its keys sit in [prometheus] itself.
	Auth
}

// Values of Config.Stamp.
const (
	StampData  = "data"
	StampQuery = "query"
)

// WithDefaults is c with its zero fields filled: the source that runs,
// and what the policy check shows. An unset timeout never exceeds the
// interval, so that a short interval alone is a valid source.
func (c Config) WithDefaults() Config {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = min(DefaultTimeout, c.Interval)
	}
	return c
}

// Validate reports every problem at once, so a policy author fixes them
// in one go: nil, or an errors.Join of *keyerr.Error naming the key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, keyerr.New(key, format, args...)) }
	if msg := checkURL(c.URL); msg != "" {
		bad("url", "%s", msg)
	}
	if c.Interval < 0 {
		bad("interval", "%v must be positive", c.Interval)
	}
	if c.Timeout < 0 {
		bad("timeout", "%v must be positive", c.Timeout)
	}
	// A round that may outlast the interval would start the next one late
	// and pile rounds up behind a slow server.
	if d := c.WithDefaults(); d.Interval > 0 && d.Timeout > d.Interval {
		errs = append(errs, &keyerr.Error{Key: "timeout", Related: []string{"interval"},
			Msg: fmt.Sprintf("%s is longer than the interval %s", d.Timeout, d.Interval)})
	}
	if len(c.Queries) == 0 {
		bad("queries", "none: want at least one of %s", strings.Join(signalKeys(), ", "))
	}
	keys := make([]string, 0, len(c.Queries))
	for k := range c.Queries {
		keys = append(keys, k)
	}
	slices.Sort(keys) // so that the same config always gives the same message
	for _, k := range keys {
		if kindOf(k) == nil {
			bad("queries."+k, "unknown signal, want one of %s", strings.Join(signalKeys(), ", "))
		} else if strings.TrimSpace(c.Queries[k]) == "" {
			bad("queries."+k, "empty PromQL")
		}
	}
	errs = append(errs, c.validateStamps(keys)...)
	if c.Samples != "" && strings.TrimSpace(c.Samples) == "" {
		bad("samples", "blank PromQL")
	}
	errs = append(errs, c.Auth.validate(c.URL)...)
	return errors.Join(errs...)
}

// checkURL says what is wrong with raw as a server's base address, or "".
func checkURL(raw string) string {
	if raw == "" {
		return "empty"
	}
	if !strings.Contains(raw, "://") {
		// Else url.Parse reads "host:port" as a scheme or fails obscurely.
		return fmt.Sprintf("%q: want scheme://host[:port], e.g. http://127.0.0.1:9090", raw)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return err.Error()
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q: scheme must be http or https", raw)
	case u.Host == "":
		return fmt.Sprintf("%q: no host", raw)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("%q: must not have a query or fragment", raw)
	}
	return ""
}

// validateStamps checks that every signal query can be dated: with stamp
// "data" each needs a timestamps query, and each timestamps query needs a
// signal query to date.
func (c Config) validateStamps(queryKeys []string) []error {
	var errs []error
	switch c.Stamp {
	case "", StampData, StampQuery:
	default:
		errs = append(errs, keyerr.New("stamp", "%q: want %q (each series dated by its timestamps query) or %q (dated at the query's instant)", c.Stamp, StampData, StampQuery))
	}
	if c.Stamp != StampQuery {
		for _, k := range queryKeys {
			if _, ok := c.Timestamps[k]; !ok && kindOf(k) != nil {
				errs = append(errs, &keyerr.Error{Key: "queries." + k, Related: []string{"timestamps"},
					Msg: fmt.Sprintf("no timestamps.%s: an instant query stamps every series with the query's instant, so data minutes late would look fresh; "+
						"add e.g. timestamps.%s = 'max by (cdn, region) (timestamp(METRIC))' naming the raw series behind it, or set stamp = %q to accept that", k, k, StampQuery)})
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Timestamps)) {
		switch {
		case kindOf(k) == nil:
			errs = append(errs, keyerr.New("timestamps."+k, "unknown signal, want one of %s", strings.Join(signalKeys(), ", ")))
		case c.Queries[k] == "":
			errs = append(errs, keyerr.New("timestamps."+k, "dates no query: queries.%s is not set", k))
		case strings.TrimSpace(c.Timestamps[k]) == "":
			errs = append(errs, keyerr.New("timestamps."+k, "empty PromQL"))
		}
	}
	return errs
}
