package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	event "github.com/cdnsteer/cdnsteer/report"
	"github.com/cdnsteer/cdnsteer/sim"
)

// simulate rehearses an event in virtual time: sim does the work,
// this parses flags and says where the results went.
func simulate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "policy file")
	scenario := fs.String("scenario", "", "scenario file")
	out := fs.String("o", "", "directory for the results (created if needed)")
	seed := fs.Int64("seed", 0, "seed for the resolver population and measurement noise (default: the scenario's)")
	step := fs.Duration("step", 0, "simulation step (default: the scenario's, else the policy's evaluation interval)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *config == "" || *scenario == "" || *out == "" {
		fmt.Fprintln(stderr, "cdnsteer simulate: -config FILE, -scenario FILE and -o DIR are required")
		return 2
	}
	snap, code := loadPolicy("simulate", *config, stderr)
	if snap == nil {
		return code
	}
	sc, err := sim.LoadScenario(*scenario, snap)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "seed":
			sc.Seed = *seed
		case "step":
			sc.Step = *step
		}
	})
	began := time.Now()
	res, err := sim.Run(sc, nil)
	if err != nil {
		fmt.Fprintf(stderr, "cdnsteer simulate: %v\n", err)
		return 1
	}
	if err := res.Write(*out); err != nil {
		fmt.Fprintf(stderr, "cdnsteer simulate: %v\n", err)
		return 1
	}
	s := res.Summary
	fmt.Fprintf(stdout, "simulated %s of %q in %s: %s steps, %s cached answers\n", sc.Duration, sc.Name,
		time.Since(began).Round(time.Millisecond), event.Int(float64(sc.Duration/sc.Step)), event.Int(float64(res.Groups)))
	fmt.Fprintf(stdout, "peak audience %s; viewer-minutes impaired %s; %d degradations, %d split moves\n",
		event.Int(float64(s.PeakAudience)), event.Int(s.ViewerMinutesImpaired), s.Degradations, s.Shifts)
	for _, c := range s.CDNs {
		if c.CommitGbps > 0 {
			fmt.Fprintf(stdout, "  %-12s peak %s of commit, %s min over\n", c.CDN, event.Percent(c.PeakUtilisation), event.Fixed(c.MinutesOverCommit, 1))
		}
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, sim.FileReport))
	return 0
}
