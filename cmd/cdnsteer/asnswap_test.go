//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// asnSwapPolicy sends KT's viewers (AS 4766) to cloudfront, the rest of
// Korea to fastly and everyone else to akamai, so that an answer shows
// which ASN database was in force.
const asnSwapPolicy = `
[server]
dns = ["127.0.0.1:0"]
http = "127.0.0.1:0"

[geo]
database = "GeoLite2-Country.mmdb"
asn_database = "GeoLite2-ASN.mmdb"

[regions]
kr_kt = ["asn:4766"]
kr = ["KR"]
default = ["*"]

[cdn.akamai]
target = "live.akamaized.example.net."
[cdn.fastly]
target = "live.global.fastly.example.net."
[cdn.cloudfront]
target = "d111111abcdef8.cloudfront.example.net."

[policy.live]
ttl = 20
[policy.live.region.kr_kt]
weights = { cloudfront = 100, fastly = 0, akamai = 0 }
[policy.live.region.kr]
weights = { fastly = 100, cloudfront = 0, akamai = 0 }
[policy.live.region.default]
weights = { akamai = 100, fastly = 0, cloudfront = 0 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// TestASNDatabaseSwapsWhileServing replaces the ASN database of a running
// server, as geoipupdate does (written aside, renamed into place): a good
// one, then one cut short, then a Country database in its place, then a
// good one that moves AS 4766 elsewhere. Clients in IPv4 and IPv6 ask all
// along, every 50 ms: every query is answered, within a second, from the
// good database in force — the old one while a bad file sits on disk,
// each failed load logged (the wrong layout named) and counted in
// cdnsteer_geo_database_load_errors_total{database="asn"}.
func TestASNDatabaseSwapsWhileServing(t *testing.T) {
	dir := t.TempDir()
	asnPath := filepath.Join(dir, "GeoLite2-ASN.mmdb")
	replace := func(content []byte) {
		tmp := asnPath + ".tmp"
		if err := os.WriteFile(tmp, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, asnPath); err != nil {
			t.Fatal(err)
		}
	}
	country := geotest.Build(t, geotest.Country, []geotest.Network{
		{CIDR: "1.16.0.0/16", Country: "KR", Continent: "AS"},
		{CIDR: "2400:1000::/32", Country: "KR", Continent: "AS"},
	})
	if err := os.WriteFile(filepath.Join(dir, "GeoLite2-Country.mmdb"), country, 0o644); err != nil {
		t.Fatal(err)
	}
	// first: KT holds 1.16.0.0/20 and 2400:1000:1::/48; second: they are
	// another AS's and KT holds 1.16.64.0/20 and 2400:1000:2::/48.
	first := geotest.Build(t, geotest.ASN, []geotest.Network{
		{CIDR: "1.16.0.0/20", ASN: 4766}, {CIDR: "1.16.64.0/20", ASN: 9318},
		{CIDR: "2400:1000:1::/48", ASN: 4766}, {CIDR: "2400:1000:2::/48", ASN: 9318},
	})
	second := geotest.Build(t, geotest.ASN, []geotest.Network{
		{CIDR: "1.16.0.0/20", ASN: 9318}, {CIDR: "1.16.64.0/20", ASN: 4766},
		{CIDR: "2400:1000:1::/48", ASN: 9318}, {CIDR: "2400:1000:2::/48", ASN: 4766},
	})
	replace(first)
	policy := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(policy, []byte(asnSwapPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServerProc(t, policy, 1, -1)

	const kt, kr = "cloudfront", "fastly"
	subnets := []netip.Prefix{ // KT's in first, KT's in second
		netip.MustParsePrefix("1.16.5.0/24"), netip.MustParsePrefix("1.16.70.0/24"),
		netip.MustParsePrefix("2400:1000:1:500::/56"), netip.MustParsePrefix("2400:1000:2:700::/56"),
	}
	// ask returns which CDN each subnet gets, or an error string.
	client := &dns.Client{Net: "udp", Timeout: time.Second}
	ask := func(s netip.Prefix) string {
		q := new(dns.Msg)
		q.SetQuestion("stream.live.example.com.", dns.TypeA)
		q.SetEdns0(1232, false)
		family := uint16(1)
		if s.Addr().Is6() {
			family = 2
		}
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: family,
			SourceNetmask: uint8(s.Bits()), Address: s.Addr().AsSlice()})
		r, rtt, err := client.Exchange(q, p.dns[0])
		switch {
		case err != nil:
			return "error: " + err.Error()
		case rtt > time.Second:
			return fmt.Sprintf("error: answered after %v", rtt)
		case r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1:
			return fmt.Sprintf("error: %v", r)
		}
		for _, c := range []string{kt, kr, "akamai"} {
			if strings.Contains(r.Answer[0].String(), c) {
				return c
			}
		}
		return "error: unknown target " + r.Answer[0].String()
	}
	inFirst := []string{kt, kr, kt, kr}
	inSecond := []string{kr, kt, kr, kt}
	answers := func() []string {
		var out []string
		for _, s := range subnets {
			out = append(out, ask(s))
		}
		return out
	}
	same := func(a, b []string) bool { return strings.Join(a, " ") == strings.Join(b, " ") }

	// Clients ask all along; each round of answers must be one database's.
	var mu sync.Mutex
	var failures []string
	rounds := 0
	want := [][]string{inFirst} // the answers allowed now
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			got := answers()
			mu.Lock()
			rounds++
			ok := false
			for _, w := range want {
				ok = ok || same(got, w)
			}
			if !ok {
				failures = append(failures, fmt.Sprintf("round %d: %v, want one of %v", rounds, got, want))
			}
			mu.Unlock()
		}
	}()
	allow := func(w ...[]string) {
		mu.Lock()
		want = w
		mu.Unlock()
	}
	const asnErrors = `cdnsteer_geo_database_load_errors_total{database="asn"}`
	await(t, "the first ASN database in force", 20*time.Second, func() bool { return same(answers(), inFirst) })
	if n := metricValue(t, p.http, asnErrors); n != 0 {
		t.Fatalf("%s = %v before any bad file", asnErrors, n)
	}

	good := len(first)
	for i, bad := range []struct {
		what    string
		content []byte
		logged  string
	}{
		{"cut short", first[:good/2], "ASN database not loaded"},
		{"a Country database", country, `\"GeoLite2-Country\" has no autonomous_system_number (want a GeoLite2-ASN or GeoIP2-ISP database)`},
	} {
		replace(bad.content)
		await(t, "the failed load of "+bad.what+" counted", 20*time.Second, func() bool {
			return metricValue(t, p.http, asnErrors) == float64(i+1)
		})
		if !strings.Contains(p.log.String(), bad.logged) {
			t.Fatalf("%s: the log does not say %q:\n%s", bad.what, bad.logged, p.log.String())
		}
		if got := answers(); !same(got, inFirst) {
			t.Fatalf("with %s on disk: %v, want the first database's %v", bad.what, got, inFirst)
		}
	}

	allow(inFirst, inSecond)
	replace(second)
	await(t, "the second ASN database in force", 20*time.Second, func() bool { return same(answers(), inSecond) })
	allow(inSecond)
	mu.Lock()
	n := rounds
	mu.Unlock()
	await(t, "five more rounds of clients", 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return rounds >= n+5
	})
	close(stop)
	<-done
	if n := metricValue(t, p.http, asnErrors); n != 2 {
		t.Errorf("%s = %v, want 2", asnErrors, n)
	}
	if c := strings.Count(p.log.String(), "ASN database loaded"); c != 2 {
		t.Errorf("%d ASN database loads logged, want 2", c)
	}
	p.stop(t, maxExit)
	t.Logf("%d rounds of %d queries", rounds, len(subnets))
	for _, f := range failures {
		t.Error("clients " + f)
	}
}
