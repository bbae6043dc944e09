package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"math/rand/v2"
	"net/netip"
	"os"

	"github.com/miekg/dns"
)

// queriesCmd writes a dnsperf -B file (two-byte length, then the message)
// of steered queries spread evenly over all n names, each with an ECS /24
// from a random unicast-looking subnet: 90 % A, 10 % AAAA.
func queriesCmd(args []string) error {
	fs := flag.NewFlagSet("queries", flag.ContinueOnError)
	n := fs.Int("n", 1, "steered names")
	count := fs.Int("count", 200000, "queries in the file")
	out := fs.String("o", "queries.bin", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(uint64(*n), 7))
	for i := range *count {
		q := new(dns.Msg)
		q.Id = uint16(i)
		t := dns.TypeA
		if r.IntN(10) == 0 {
			t = dns.TypeAAAA
		}
		q.SetQuestion(fqdn(i%*n), t)
		q.RecursionDesired = false
		q.SetEdns0(1232, false)
		var a [4]byte
		binary.BigEndian.PutUint32(a[:], r.Uint32())
		a[0] = 1 + a[0]%223
		a[3] = 0
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
			Address: netip.AddrFrom4(a).AsSlice()})
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
