package prom

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults for the Config fields left zero.
const (
	DefaultInterval = 5 * time.Second
	DefaultTimeout  = 3 * time.Second
)

// Config comes from the policy's [prometheus] table (the policy compiler
// fills it).
type Config struct {
	// URL is the Prometheus server's base address, e.g.
	// http://127.0.0.1:9090; the HTTP API lives under it at /api/v1.
	URL string
	// Interval is the time between the starts of two rounds of queries;
	// zero means DefaultInterval.
	Interval time.Duration
	// Timeout bounds each round, so that a slow Prometheus cannot pile
	// rounds up; it is also sent as the server-side query timeout. Zero
	// means DefaultTimeout.
	Timeout time.Duration
	// Queries maps a signal to a PromQL instant query whose result vector
	// carries a "cdn" label and optionally a "region" label. Keys:
	// "ttfb_ms", "error_rate", "cache_hit_ratio", "throughput_gbps". Any
	// non-empty subset.
	Queries map[string]string
	// Samples is an optional PromQL instant query giving the sample count
	// per cdn (and region), e.g. the request rate. A signal takes the count
	// of the series with the same cdn and region; without one it counts 1.
	Samples string
}

// withDefaults returns c with its zero fields defaulted, or an error that
// names every problem, so a policy author fixes them in one go.
func (c Config) withDefaults() (Config, error) {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	var errs []error
	if err := checkURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("interval %v: must be positive", c.Interval))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must be positive", c.Timeout))
	}
	if len(c.Queries) == 0 {
		errs = append(errs, fmt.Errorf("no queries: want at least one of %s", strings.Join(signalKeys(), ", ")))
	}
	keys := make([]string, 0, len(c.Queries))
	for k := range c.Queries {
		keys = append(keys, k)
	}
	slices.Sort(keys) // so that the same config always gives the same message
	for _, k := range keys {
		if kindOf(k) == nil {
			errs = append(errs, fmt.Errorf("query %q: unknown signal, want one of %s", k, strings.Join(signalKeys(), ", ")))
		} else if strings.TrimSpace(c.Queries[k]) == "" {
			errs = append(errs, fmt.Errorf("query %q: empty PromQL", k))
		}
	}
	if c.Samples != "" && strings.TrimSpace(c.Samples) == "" {
		errs = append(errs, errors.New("samples: blank PromQL"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("prometheus config: %w", err)
	}
	return c, nil
}

func checkURL(raw string) error {
	if raw == "" {
		return errors.New("url: empty")
	}
	if !strings.Contains(raw, "://") {
		// Else url.Parse reads "host:port" as a scheme or fails obscurely.
		return fmt.Errorf("url %q: want scheme://host[:port], e.g. http://127.0.0.1:9090", raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("url %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("url %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("url %q: must not have a query or fragment", raw)
	}
	return nil
}
