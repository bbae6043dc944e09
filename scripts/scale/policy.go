package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
)

// policyCmd writes a policy of n steered names, one policy each, with
// every region's weights of its own; signals come by push (no probes).
func policyCmd(args []string) error {
	fs := flag.NewFlagSet("policy", flag.ContinueOnError)
	n := fs.Int("n", 1, "steered names (one policy each)")
	out := fs.String("o", "policy.toml", "output file")
	dnsAddr := fs.String("dns", "127.0.0.1:5401", "server.dns")
	httpAddr := fs.String("http", "127.0.0.1:6401", "server.http")
	geodb := fs.String("geodb", "", "geo.database (empty: none)")
	ttl := fs.Int("ttl", 20, "TTL of every policy (a reload test changes it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writePolicy(w, *n, *dnsAddr, *httpAddr, *geodb, *ttl)
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	// Renamed into place, so that a server watching the file reads it whole.
	return os.Rename(tmp, *out)
}

func writePolicy(w *bufio.Writer, n int, dnsAddr, httpAddr, geodb string, ttl int) {
	fmt.Fprintf(w, "# scripts/scale.sh: %d steered names, one policy each\n", n)
	// Reads open (loopback only): the live view and the state and
	// history requests are measured for their cost, not their token.
	fmt.Fprintf(w, "[server]\ndns = [%q]\nhttp = %q\nadmin_token_file = \"admin.token\"\nhttp_open_reads = true\ndecision_log = \"decisions.jsonl\"\n\n", dnsAddr, httpAddr)
	fmt.Fprintf(w, "[geo]\necs = true\n")
	if geodb != "" {
		fmt.Fprintf(w, "database = %q\n", geodb)
	}
	fmt.Fprintf(w, "\n[regions]\n")
	for i := range numRegions - 1 {
		fmt.Fprintf(w, "%s = [\"%s\"]\n", regionName(i), strings.Join(regionCountries(i), `", "`))
	}
	fmt.Fprintf(w, "default = [\"*\"]\n\n")
	for c := range numCDNs {
		fmt.Fprintf(w, "[cdn.%s]\ntarget = \"live.%s.example.net.\"\ncommit_gbps = 1000\n", cdnName(c), cdnName(c))
	}
	regions := regionNames()
	for p := range n {
		fmt.Fprintf(w, "\n[policy.%s]\nttl = %d\n", policyName(p), ttl)
		for ri, r := range regions {
			fmt.Fprintf(w, "[policy.%s.region.%s]\nweights = {", policyName(p), r)
			for c := range numCDNs {
				if c > 0 {
					w.WriteString(",")
				}
				// Splits differ from region to region and policy to policy.
				fmt.Fprintf(w, " %s = %d", cdnName(c), 10+(p+ri+3*c)%40)
			}
			w.WriteString(" }\n")
		}
	}
	for z := 0; z*namesPerZone < n; z++ {
		origin := zoneOrigin(z * namesPerZone)
		fmt.Fprintf(w, "\n[[zone]]\norigin = %q\nns = [\"ns1.%s\"]\n", origin, origin)
		fmt.Fprintf(w, "[[zone.record]]\nname = \"ns1\"\ntype = \"A\"\nvalue = \"192.0.2.53\"\n")
		for i := z * namesPerZone; i < n && i < (z+1)*namesPerZone; i++ {
			fmt.Fprintf(w, "[[zone.steer]]\nname = %q\npolicy = %q\n", steeredName(i), policyName(i))
		}
	}
}
