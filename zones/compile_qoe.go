package zones

import (
	"net/url"
	"sort"
	"strings"
	"time"
)

// QoEConfig is the [qoe] table: how the players' CMCD reports on the
// steering listener (package qoe) are sampled and aggregated.
type QoEConfig struct {
	Sample *float64       `toml:"sample"`
	Window *time.Duration `toml:"window"`
	// Hosts names more hosts (or parent domains) each CDN serves media
	// from, for reports that name their object's URL but not their CDN.
	Hosts map[string][]string `toml:"hosts"`
}

// QoE is the resolved [qoe] table; set whenever the steering listener
// is, with the defaults when the policy has no [qoe].
type QoE struct {
	// Sample is the share of sessions whose reports count, 0..1.
	Sample float64
	// Window is how far back each published value looks.
	Window time.Duration
	// Hosts maps a host (lower case, no final dot) to its CDN's index:
	// each CDN's target, its probe URL's host and [qoe.hosts].
	Hosts map[string]int
}

// Defaults and bounds of [qoe]. The window is cut in six slots that
// slide, so it is at least six seconds.
const (
	DefaultQoESample = 1.0
	DefaultQoEWindow = 30 * time.Second
	minQoEWindow     = 6 * time.Second
	maxQoEWindow     = 10 * time.Minute
)

func (c *compiler) qoe(f *File, s *Snapshot) {
	qc := f.QoE
	if s.Steering == nil {
		if qc != nil {
			c.el.Add("qoe", "qoe: players report to the steering listener: [steering] listen is needed")
		}
		return
	}
	q := &QoE{Sample: DefaultQoESample, Window: DefaultQoEWindow, Hosts: map[string]int{}}
	shared := map[string]bool{}
	for i, cdn := range s.CDNs {
		for _, h := range []string{strings.TrimSuffix(cdn.Target, "."), probeHost(cdn)} {
			if j, taken := q.Hosts[h]; taken && j != i {
				shared[h] = true
			} else if h != "" {
				q.Hosts[h] = i
			}
		}
	}
	// A host two CDNs share (edges simulated on one loopback address, a
	// probe through a common origin) cannot tell which one served a
	// report: it names none, and [qoe.hosts] may give it to one.
	for h := range shared {
		delete(q.Hosts, h)
	}
	if qc != nil {
		if qc.Sample != nil {
			if v := *qc.Sample; !(v >= 0 && v <= 1) {
				c.el.Add("qoe.sample", "qoe.sample: %g is outside 0..1", v)
			} else {
				q.Sample = v
			}
		}
		if qc.Window != nil {
			if v := *qc.Window; v < minQoEWindow || v > maxQoEWindow {
				c.el.Add("qoe.window", "qoe.window: %s is outside %s..%s", v, minQoEWindow, maxQoEWindow)
			} else {
				q.Window = v
			}
		}
		c.qoeHosts(qc, s, q)
	}
	s.QoE = q
}

// qoeHosts adds [qoe.hosts]: a host named for two CDNs, or already
// another CDN's target, is refused.
func (c *compiler) qoeHosts(qc *QoEConfig, s *Snapshot, q *QoE) {
	names := make([]string, 0, len(qc.Hosts))
	for name := range qc.Hosts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		at := "qoe.hosts." + name
		ci := -1
		for i, cdn := range s.CDNs {
			if cdn.Name == name {
				ci = i
			}
		}
		if ci < 0 {
			c.el.Add(at, "qoe.hosts: unknown cdn %q", name)
			continue
		}
		for _, h := range qc.Hosts[name] {
			host := strings.TrimSuffix(strings.ToLower(h), ".")
			if host == "" || strings.ContainsAny(host, "/:@?# ") {
				c.el.Add(at, "qoe.hosts.%s: %q is not a host name (media.example.net)", name, h)
				continue
			}
			if j, taken := q.Hosts[host]; taken && j != ci {
				c.el.Add(at, "qoe.hosts.%s: %q is cdn %q's already", name, h, s.CDNs[j].Name)
				continue
			}
			q.Hosts[host] = ci
		}
	}
}

// probeHost is the host of a CDN's probe URL, if it is probed.
func probeHost(cdn CDN) string {
	if cdn.Probe == nil {
		return ""
	}
	u, err := url.Parse(cdn.Probe.URL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
