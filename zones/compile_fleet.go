package zones

import (
	"net/url"
	"os"
	"regexp"
	"strings"
)

// FleetConfig is the [fleet] table: the NATS JetStream bucket through
// which the instances of one delegation share overrides, annotations and
// pushed signals. Without nats the instance stands alone.
type FleetConfig struct {
	NATS     []string `toml:"nats"`
	Bucket   string   `toml:"bucket"`
	Instance string   `toml:"instance"`
	// Credentials is a NATS .creds file (JWT and NKey); a user and
	// password may instead ride in the URLs. CA verifies tls:// servers.
	Credentials string `toml:"credentials"`
	CA          string `toml:"ca"`
}

// Fleet is the resolved [fleet] table; nil when the instance stands alone.
type Fleet struct {
	NATS        []string
	Bucket      string
	Instance    string
	Credentials string
	CA          string
}

// DefaultFleetBucket is [fleet] bucket's default.
const DefaultFleetBucket = "cdnsteer"

// fleetName is what a bucket or an instance may be called: each is part
// of a NATS subject, where dots separate tokens.
var (
	fleetBucket   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	fleetInstance = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

func (c *compiler) fleet(fc *FleetConfig) *Fleet {
	if fc == nil || fc.NATS == nil {
		if fc != nil && (fc.Bucket != "" || fc.Instance != "" || fc.Credentials != "" || fc.CA != "") {
			c.el.Add("fleet", "fleet: nats is needed: list the NATS servers (nats = [\"nats://127.0.0.1:4222\"])")
		}
		return nil
	}
	f := &Fleet{Bucket: fc.Bucket, Instance: fc.Instance, Credentials: c.path(fc.Credentials), CA: c.path(fc.CA)}
	if len(fc.NATS) == 0 {
		c.el.Add("fleet.nats", "fleet.nats: list at least one NATS server")
	}
	for _, s := range fc.NATS {
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Host == "":
			c.el.Add("fleet.nats", "fleet.nats: %q is not a URL such as nats://127.0.0.1:4222", s)
			continue
		case u.Scheme != "nats" && u.Scheme != "tls":
			c.el.Add("fleet.nats", "fleet.nats: %q: the scheme is nats:// or tls://", s)
			continue
		}
		f.NATS = append(f.NATS, s)
	}
	if f.Bucket == "" {
		f.Bucket = DefaultFleetBucket
	}
	if !fleetBucket.MatchString(f.Bucket) {
		c.el.Add("fleet.bucket", "fleet.bucket: %q: letters, digits, - and _ only", f.Bucket)
	}
	if f.Instance == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			c.el.Add("fleet", "fleet.instance: unset and the host name is unknown: name this instance")
		}
		f.Instance = strings.TrimSuffix(host, ".")
	}
	if len(f.Instance) > 128 || !fleetInstance.MatchString(f.Instance) {
		c.el.Add("fleet.instance", "fleet.instance: %q: letters, digits, - and _, in dot-separated parts (set it when the host name is not such)", f.Instance)
	}
	for key, p := range map[string]string{"credentials": f.Credentials, "ca": f.CA} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			c.el.Add("fleet."+key, "fleet.%s: %v", key, err)
		}
	}
	return f
}
