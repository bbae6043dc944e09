// Command benchquery writes the query file scripts/bench.sh feeds to
// dnsperf -B: DNS messages in TCP stream framing (a two-byte length before
// each), so that every query can carry its own EDNS Client Subnet, which
// dnsperf's text input cannot.
//
// With -geodb FILE it also writes a synthetic MaxMind database shaped like
// GeoLite2-Country (whose license keeps it out of the repository), so that
// the benchmark measures cdnsteer with a country database of realistic
// size loaded. -geodb-only skips the query file.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

func main() {
	out := flag.String("o", "queries.bin", "output file")
	n := flag.Int("n", 200000, "number of queries")
	zone := flag.String("zone", "live.example.com.", "zone")
	ecs := flag.Bool("ecs", true, "send EDNS Client Subnet on steered queries")
	ecs6 := flag.Bool("ecs6", false, "with -ecs, send IPv6 client subnets (/56 in 2400::/17, where the -geodb database's IPv6 networks are) instead of IPv4 /24s")
	do := flag.Bool("do", false, "set the DO bit (ask for DNSSEC records) on every query")
	seed := flag.Uint64("seed", 1, "random seed")
	geodb := flag.String("geodb", "", "also write a synthetic GeoLite2-Country-shaped database to this file")
	geoOnly := flag.Bool("geodb-only", false, "write only the -geodb database, no query file")
	n4 := flag.Int("geodb-v4", 350_000, "IPv4 networks in the -geodb database")
	n6 := flag.Int("geodb-v6", 150_000, "IPv6 networks in the -geodb database")
	flag.Parse()
	if *geodb != "" {
		if err := writeGeoDB(*geodb, *n4, *n6); err != nil {
			fmt.Fprintln(os.Stderr, "benchquery:", err)
			os.Exit(1)
		}
	} else if *geoOnly {
		fmt.Fprintln(os.Stderr, "benchquery: -geodb-only needs -geodb FILE")
		os.Exit(2)
	}
	if *geoOnly {
		return
	}
	if err := write(*out, *n, dns.Fqdn(*zone), *ecs, *ecs6, *do, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "benchquery:", err)
		os.Exit(1)
	}
}

// write makes the workload mix: mostly the steered name (A, some AAAA)
// from many client subnets, some static names, some NXDOMAIN.
func write(path string, n int, zone string, withECS, v6, do bool, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(seed, 2))
	for i := 0; i < n; i++ {
		q := new(dns.Msg)
		q.Id = uint16(i)
		steered := false
		switch x := r.IntN(100); {
		case x < 80:
			q.SetQuestion("stream."+zone, dns.TypeA)
			steered = true
		case x < 90:
			q.SetQuestion("stream."+zone, dns.TypeAAAA)
			steered = true
		case x < 95:
			q.SetQuestion("www."+zone, dns.TypeA)
		default:
			q.SetQuestion(fmt.Sprintf("nx%d.%s", r.IntN(1000000), zone), dns.TypeA)
		}
		q.RecursionDesired = false
		q.SetEdns0(1232, do)
		if steered && withECS && v6 {
			// Random /56s over a /17, about half of it in the database's
			// IPv6 networks, as the /24s below spread over the unicast
			// /8s, about half of them in its IPv4 ones.
			var a [16]byte
			binary.BigEndian.PutUint64(a[:8], 0x2400<<48|r.Uint64()>>17&^0xff)
			q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 2, SourceNetmask: 56,
				Address: netip.AddrFrom16(a).AsSlice()})
		} else if steered && withECS {
			var a [4]byte
			binary.BigEndian.PutUint32(a[:], r.Uint32())
			a[0] = 1 + a[0]%223 // unicast-looking first octet
			a[3] = 0
			q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
				Address: netip.AddrFrom4(a).AsSlice()})
		}
		pkt, err := q.Pack()
		if err != nil {
			return err
		}
		var l [2]byte
		binary.BigEndian.PutUint16(l[:], uint16(len(pkt)))
		w.Write(l[:])
		w.Write(pkt)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// writeGeoDB writes a database shaped like GeoLite2-Country with n4 IPv4
// and n6 IPv6 networks over every assigned country (geotest.Synthetic);
// IPv4 networks cover roughly the first hundred /8s, so most of the
// random ECS subnets find a country.
func writeGeoDB(path string, n4, n6 int) error {
	data, err := geotest.Synthetic(geo.Countries(), geo.Continents(), n4, n6)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
