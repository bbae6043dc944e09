// Package escalation sends escalations to Alertmanager: an operator's
// (POST /api/v1/escalations) and the automatic one of a CDN degraded in a
// region for longer than [escalation] after. Each open escalation is one
// firing alert, posted to every configured Alertmanager and re-posted
// every minute with an end a few minutes ahead, so that it resolves by
// itself if cdnsteer dies; when the escalation closes (by hand, or the CDN
// healthy again) the alert is posted once more, ending now. Alertmanager
// being slow or down costs retries with backoff in goroutines of their
// own, never an evaluation: the engine only hands its status changes over
// a bounded queue.
package escalation

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// Config is the policy's [escalation] table as it decodes (the toml tags
// are its keys).
type Config struct {
	// Alertmanager lists the Alertmanagers to alert, each by its base
	// address (http://127.0.0.1:9093); alerts go to /api/v2/alerts under
	// it. Every one gets every alert, as Prometheus does with several.
	Alertmanager []string `toml:"alertmanager"`
	// After is how long a CDN stays degraded in a region before it is
	// escalated by itself; zero (the default) escalates by hand only.
	After time.Duration `toml:"after"`
	// Labels are added to every alert (team, severity, routing keys).
	Labels map[string]string `toml:"labels"`
}

// Labels every alert carries that the policy may not set: they are what
// tells one escalation from another in Alertmanager. "instance" may be
// set, for two instances on one host.
var reservedLabels = []string{"alertname", "cdn", "region", "policy"}

// labelName is Prometheus' label name syntax; names starting with "__"
// are reserved for its internal use.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Validate reports every problem at once: nil, or an errors.Join of
// *keyerr.Error naming the key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) { errs = append(errs, keyerr.New(key, format, args...)) }
	if len(c.Alertmanager) == 0 {
		bad("alertmanager", "none: want at least one Alertmanager address, e.g. [\"http://127.0.0.1:9093\"]")
	}
	seen := map[string]int{}
	for i, raw := range c.Alertmanager {
		key := fmt.Sprintf("alertmanager[%d]", i)
		if msg := checkURL(raw); msg != "" {
			bad(key, "%s", msg)
			continue
		}
		norm := strings.TrimRight(raw, "/")
		if j, dup := seen[norm]; dup {
			bad(key, "%q is alertmanager[%d] again: it would get every alert twice", raw, j)
		}
		seen[norm] = i
	}
	if c.After < 0 {
		bad("after", "%v must be positive (or 0: escalate by hand only)", c.After)
	}
	names := make([]string, 0, len(c.Labels))
	for k := range c.Labels {
		names = append(names, k)
	}
	sort.Strings(names) // the same file always gives the same messages
	for _, k := range names {
		switch {
		case !labelName.MatchString(k) || strings.HasPrefix(k, "__"):
			bad("labels."+k, "%q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", k)
		case slices.Contains(reservedLabels, k):
			bad("labels."+k, "%q is set by cdnsteer on every alert (%s)", k, strings.Join(reservedLabels, ", "))
		case strings.TrimSpace(c.Labels[k]) == "":
			bad("labels."+k, "empty value: Alertmanager drops a label without one")
		}
	}
	return errors.Join(errs...)
}

// Endpoints are the Alertmanagers' alert endpoints, in the file's order.
func (c Config) Endpoints() []string {
	out := make([]string, len(c.Alertmanager))
	for i, raw := range c.Alertmanager {
		out[i] = strings.TrimRight(raw, "/") + "/api/v2/alerts"
	}
	return out
}

// checkURL says what is wrong with raw as an Alertmanager's base
// address, or "".
func checkURL(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return "empty"
	}
	if !strings.Contains(raw, "://") {
		// Else url.Parse reads "host:port" as a scheme or fails obscurely.
		return fmt.Sprintf("%q: want http://host:port or https://host:port, e.g. http://127.0.0.1:9093", raw)
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

// redacted is an address as logs and metric labels show it: without a
// password it may carry.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Redacted()
}
