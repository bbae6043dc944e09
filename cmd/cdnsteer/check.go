package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cdnsteer/cdnsteer/zones"
)

func check(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "policy file to validate")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	snap, code := loadPolicy("check", *config, stderr)
	if snap == nil {
		return code
	}
	summarise(stdout, snap)
	if !checkDoor(snap, stdout, stderr) {
		return 1
	}
	return 0
}

// loadPolicy loads the -config file of a command; when it cannot, it says
// why on stderr and returns the exit status: 2 for no file named, 1 for
// a file that does not load.
func loadPolicy(cmd, path string, stderr io.Writer) (*zones.Snapshot, int) {
	if path == "" {
		fmt.Fprintf(stderr, "cdnsteer %s: -config FILE is required\n", cmd)
		return nil, 2
	}
	snap, err := zones.Load(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 1
	}
	return snap, 0
}

func summarise(w io.Writer, s *zones.Snapshot) {
	fmt.Fprintf(w, "%s: OK\n", s.File)
	fmt.Fprintf(w, "sha256 %s\n", s.HashHex())
	for _, z := range s.Zones {
		var steered []string
		records := 0
		for _, n := range z.Nodes() {
			if n.Steer != nil {
				steered = append(steered, fmt.Sprintf("%s -> policy %s", n.Name, n.Steer.Name))
			}
			for _, set := range n.Sets {
				records += len(set.RRs)
			}
		}
		fmt.Fprintf(w, "zone %s: %d records, %d steered names\n", z.Origin, records, len(steered))
		printDS(w, z)
		slices.Sort(steered)
		for _, st := range steered {
			fmt.Fprintf(w, "  steer %s\n", st)
		}
	}
	for _, c := range s.CDNs {
		probe := "no probe"
		if c.Probe != nil {
			probe = "probe " + c.Probe.URL + " every " + c.Probe.Interval.String()
		}
		fmt.Fprintf(w, "cdn %s: target %s, commit %g Gbit/s, %s\n", c.Name, c.Target, c.CommitGbps, probe)
	}
	for _, r := range s.Regions {
		codes := strings.Join(r.Codes, " ")
		if codes == "" {
			codes = "(whatever no other region matches)"
		}
		fmt.Fprintf(w, "region %s: %s\n", r.Name, codes)
	}
	for _, p := range s.Policies {
		fmt.Fprintf(w, "policy %s: ttl %d\n", p.Name, p.TTL)
		for ri, r := range s.Regions {
			if !p.Defined[ri] {
				continue
			}
			var parts []string
			for ci, c := range s.CDNs {
				if v := p.Baseline[ri].W[ci]; v > 0 {
					parts = append(parts, fmt.Sprintf("%s=%g", c.Name, v))
				}
			}
			fmt.Fprintf(w, "  region %s: %s\n", r.Name, strings.Join(parts, " "))
		}
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}
