package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// engineCmd loads the policy, runs the health engine in virtual time at
// one evaluation a second with the pushed workload's signals, and prints
// the CPU time an evaluation takes: at a 1 s interval, the share of one
// core the server spends evaluating. Nothing sleeps, so a minute of
// evaluations takes only their own time. The first evaluation, which
// builds the engine's index (a load's or a reload's cost, counted in
// theirs), is not counted; 61 evaluations count the minute's checkpoint
// once in 60, as a running server writes it.
func engineCmd(args []string) error {
	fs := flag.NewFlagSet("engine", flag.ContinueOnError)
	config := fs.String("config", "", "policy file")
	secs := fs.Int("seconds", 61, "evaluations (one per virtual second), the first not counted")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the evaluations here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	snap, err := zones.Load(*config)
	if err != nil {
		return err
	}
	e := health.NewEngine(snap.Health(), nil)
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	now := time.Now().Truncate(time.Second)
	var evalCPU time.Duration
	var worst time.Duration
	for sec := range *secs {
		t := now.Add(time.Duration(sec) * time.Second)
		for _, r := range readings(int(t.Unix())) {
			e.Push(health.Signal{CDN: r.cdn, Region: r.region, Time: t, Samples: 1000, Source: health.SourcePush,
				Values: values(r)})
		}
		c0 := cpuTime()
		e.Evaluate(t)
		d := cpuTime() - c0
		if sec == 0 {
			continue
		}
		evalCPU += d
		worst = max(worst, d)
	}
	avg := evalCPU / time.Duration(max(*secs-1, 1))
	// Printed as: CPU % of one core at a 1 s interval, ms per evaluation
	// (mean), ms of the slowest.
	fmt.Printf("%.2f %.2f %.2f\n", float64(avg)/float64(time.Second)*100, float64(avg)/1e6, float64(worst)/1e6)
	return nil
}

func values(r reading) health.Values {
	var v health.Values
	v[health.TTFB], v[health.ErrorRate], v[health.CacheHit], v[health.Throughput] = health.F(r.ttfb), health.F(r.errs), health.F(r.hit), health.F(r.gbps)
	return v
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
