package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
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
	var replay files
	fs.Var(&replay, "replay", "signal log to replay instead of a scenario (repeat for rotated files, oldest first)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if len(replay) > 0 {
		return simulateReplay(fs, *config, replay, *out, stdout, stderr)
	}
	if *config == "" || *scenario == "" || *out == "" {
		fmt.Fprintln(stderr, "cdnsteer simulate: -config FILE, -scenario FILE (or -replay FILE) and -o DIR are required")
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

// simulateReplay replays recorded signals through the policy in config.
// A replay has no audience model, so the flags that shape one are
// refused rather than ignored.
func simulateReplay(fs *flag.FlagSet, config string, replay []string, out string, stdout, stderr io.Writer) int {
	bad := ""
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "scenario", "seed", "step":
			bad = f.Name
		}
	})
	if bad != "" {
		fmt.Fprintf(stderr, "cdnsteer simulate: -%s does not go with -replay: a replay feeds recorded signals, with no audience or scenario\n", bad)
		return 2
	}
	if config == "" || out == "" {
		fmt.Fprintln(stderr, "cdnsteer simulate: -replay needs -config FILE (the candidate policy) and -o DIR")
		return 2
	}
	snap, code := loadPolicy("simulate", config, stderr)
	if snap == nil {
		return code
	}
	began := time.Now()
	res, err := sim.Replay(snap, replay)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := res.Write(out); err != nil {
		fmt.Fprintf(stderr, "cdnsteer simulate: %v\n", err)
		return 1
	}
	s := res.Summary()
	fmt.Fprintf(stdout, "replayed %s signals (%s to %s UTC) through %s in %s: %s evaluations\n", event.Int(float64(s.Signals)),
		s.Start.Format("2006-01-02 15:04:05"), s.End.Format("15:04:05"), config, time.Since(began).Round(time.Millisecond), event.Int(float64(s.Evaluations)))
	if s.TornLines > 0 {
		fmt.Fprintf(stderr, "cdnsteer simulate: skipped %d line(s) cut short, as a crash or a full disk leaves them (the first at %s)\n", s.TornLines, res.FirstTorn)
	}
	fmt.Fprintf(stdout, "%d degradations, %d split moves, %d fail-opens, %d decisions\n", s.Degradations, s.Shifts, s.FailOpens, s.Decisions)
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(out, sim.FileReport))
	return 0
}

// files is a flag given once per file, in order.
type files []string

func (f *files) String() string     { return strings.Join(*f, " ") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }
