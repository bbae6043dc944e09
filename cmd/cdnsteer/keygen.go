package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

// keygen writes a combined signing key (flags 257, active now) for a zone
// in BIND's format, so that dnssec-settime and dnssec-keygen manage it
// afterwards, and prints the DS record for the parent.
func keygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	zone := fs.String("zone", "", "zone origin the key signs")
	dir := fs.String("dir", "", "folder to write the key pair into ([zone.dnssec] keys)")
	alg := fs.Int("alg", int(dns.ECDSAP256SHA256), "algorithm: 13 (ECDSAP256SHA256) or 15 (ED25519)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *zone == "" || *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "cdnsteer keygen: -zone ORIGIN and -dir DIR are required")
		return 2
	}
	if *alg != int(dns.ECDSAP256SHA256) && *alg != int(dns.ED25519) {
		fmt.Fprintf(stderr, "cdnsteer keygen: -alg %d: use 13 (ECDSAP256SHA256) or 15 (ED25519)\n", *alg)
		return 2
	}
	if _, ok := dns.IsDomainName(*zone); !ok {
		fmt.Fprintf(stderr, "cdnsteer keygen: -zone %q is not a domain name\n", *zone)
		return 2
	}
	now := time.Now().UTC().Truncate(time.Second)
	file, key, err := zones.GenerateKey(*dir, *zone, uint8(*alg), true, now, zones.KeyTiming{Publish: now, Activate: now})
	if err != nil {
		fmt.Fprintf(stderr, "cdnsteer keygen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s and its .private\n", file)
	fmt.Fprintln(stdout, "DS for the parent zone:")
	fmt.Fprintln(stdout, dsLine(key))
	return 0
}

// dsLine is the SHA-256 DS record of a key in the form parents take.
func dsLine(k *dns.DNSKEY) string {
	ds := k.ToDS(dns.SHA256)
	return fmt.Sprintf("%s IN DS %d %d %d %s", ds.Hdr.Name, ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
}

// printDS lists a signed zone's keys now and the DS of each SEP key that
// signs, for the parent.
func printDS(w io.Writer, z *zones.Zone) {
	if z.DNSSEC == nil {
		return
	}
	now := time.Now()
	ksk, _ := z.DNSSEC.Signers(now)
	fmt.Fprintf(w, "  dnssec: %d keys, signatures valid %s\n", len(z.DNSSEC.Keys), z.DNSSEC.Validity)
	for _, k := range z.DNSSEC.Keys {
		state := "not published"
		switch {
		case k.Active(now):
			state = "active"
		case k.Published(now):
			state = "published, not signing"
		}
		role := "ZSK"
		if k.SEP() {
			role = "KSK"
		}
		fmt.Fprintf(w, "  key %s (%s): %s\n", k.Name(), role, state)
	}
	for _, k := range ksk {
		fmt.Fprintf(w, "  DS %s\n", dsLine(k.DNSKEY))
	}
}
