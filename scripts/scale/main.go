// Command scale is scripts/scale.sh's helper: it writes the policies and
// query files of the scale curve, pushes signals in place of probes, times
// the health engine's evaluations in-process, and times the live view in
// Chromium. Everything stays on loopback.
//
//	scale policy   -n N -o FILE ...   a policy of N steered names
//	scale queries  -n N -o FILE ...   a dnsperf -B query file over them
//	scale push     -url URL ...       signals every second, for a while
//	scale engine   -config FILE ...   CPU of the engine's evaluations
//	scale declog   -config FILE ...   an hour's decision log, in virtual time
//	scale liveview -url URL ...       the live view's load time
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: scale policy|queries|push|engine|declog|liveview [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"policy":   policyCmd,
		"queries":  queriesCmd,
		"push":     pushCmd,
		"engine":   engineCmd,
		"declog":   declogCmd,
		"liveview": liveviewCmd,
	}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "scale: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "scale %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
