package zones

import (
	"os"
	"path/filepath"
)

// DnstapConfig is the [dnstap] table: a sample of the queries and answers
// as dnstap messages (the query log of BIND, Knot, Unbound and CoreDNS)
// to a reader's Unix socket or to a file.
type DnstapConfig struct {
	Socket   *string  `toml:"socket"`
	File     *string  `toml:"file"`
	Sample   *float64 `toml:"sample"`
	Rate     *int     `toml:"rate"`
	Identity *string  `toml:"identity"`
}

// Dnstap is the resolved [dnstap] table; nil when there is none.
type Dnstap struct {
	// Socket or File (one of them) is where the messages go: a Frame
	// Streams reader's Unix socket, or a file.
	Socket, File string
	// Sample is the share of queries logged, in (0, 1].
	Sample float64
	// Rate bounds the queries logged per second.
	Rate int
	// Identity names this server in every message (default: the host
	// name).
	Identity string
}

// Defaults and bounds of [dnstap].
const (
	DefaultDnstapSample = 1.0
	DefaultDnstapRate   = 1000
	maxDnstapRate       = 1_000_000
	maxDnstapIdentity   = 255
	// maxSocketPath is the room in a Unix socket address (sun_path).
	maxSocketPath = 107
)

func (c *compiler) dnstap(dc *DnstapConfig) *Dnstap {
	if dc == nil {
		return nil
	}
	d := &Dnstap{Sample: DefaultDnstapSample, Rate: DefaultDnstapRate}
	switch {
	case dc.Socket != nil && dc.File != nil:
		c.el.Add("dnstap.file", "dnstap: socket and file are exclusive: name one")
	case dc.Socket == nil && dc.File == nil:
		c.el.Add("dnstap", "dnstap: socket or file is needed")
	case dc.Socket != nil:
		d.Socket = c.path(*dc.Socket)
		if *dc.Socket == "" {
			c.el.Add("dnstap.socket", "dnstap.socket: empty path")
		} else if len(d.Socket) > maxSocketPath {
			c.el.Add("dnstap.socket", "dnstap.socket: %q is longer than a Unix socket address allows (%d bytes)", d.Socket, maxSocketPath)
		}
	default:
		d.File = c.path(*dc.File)
		if *dc.File == "" {
			c.el.Add("dnstap.file", "dnstap.file: empty path")
		} else if st, err := os.Stat(filepath.Dir(d.File)); err != nil || !st.IsDir() {
			c.el.Add("dnstap.file", "dnstap.file: directory %q does not exist", filepath.Dir(d.File))
		}
	}
	if dc.Sample != nil {
		if v := *dc.Sample; !(v > 0 && v <= 1) {
			c.el.Add("dnstap.sample", "dnstap.sample: %g is outside (0, 1]", v)
		} else {
			d.Sample = v
		}
	}
	if dc.Rate != nil {
		if v := *dc.Rate; v < 1 || v > maxDnstapRate {
			c.el.Add("dnstap.rate", "dnstap.rate: %d is outside 1..%d messages a second", v, maxDnstapRate)
		} else {
			d.Rate = v
		}
	}
	if dc.Identity != nil {
		if len(*dc.Identity) > maxDnstapIdentity {
			c.el.Add("dnstap.identity", "dnstap.identity: longer than %d bytes", maxDnstapIdentity)
		} else {
			d.Identity = *dc.Identity
		}
	} else {
		d.Identity, _ = os.Hostname()
	}
	return d
}
