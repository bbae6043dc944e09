// Command cdnsteer is an authoritative DNS server that steers live-video
// viewers across CDNs. This file only dispatches to the subcommands.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `usage: cdnsteer <command> [flags]

commands:
  serve    -config FILE                          run the nameserver, health engine and HTTP endpoint
  check    -config FILE                          validate a policy file and summarise it (with each signed zone's DS)
  keygen   -zone ORIGIN -dir DIR [-alg 13|15]    write a DNSSEC key pair (CSK) in BIND format and print its DS
  demo                                           run a self-contained demo on loopback
  simulate -config FILE -scenario FILE -o DIR    rehearse an event in virtual time
  simulate -config FILE -replay LOG... -o DIR    what a policy would have decided on recorded signals
  report   -log FILE [-log FILE…] -o FILE        post-event report from a decision log (several: one per instance, merged)
  version                                        print version information
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "keygen":
		return keygen(args[1:], stdout, stderr)
	case "demo":
		return demo(args[1:], stdout, stderr)
	case "simulate":
		return simulate(args[1:], stdout, stderr)
	case "report":
		return report(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return version(stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "cdnsteer: unknown command %q\n%s", args[0], usage)
		return 2
	}
}
