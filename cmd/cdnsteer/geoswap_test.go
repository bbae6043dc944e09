//go:build linux

package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/geo/geotest"
)

// geoSwapPolicy sends region kr to fastly and everyone else to akamai, so
// that an answer shows whether the database was in force.
const geoSwapPolicy = `
[server]
dns = ["127.0.0.1:0", "127.0.0.2:0"]
http = "127.0.0.1:0"

[geo]
database = "GeoLite2-Country.mmdb"

[regions]
kr = ["KR"]
default = ["*"]

[cdn.akamai]
target = "live.akamaized.example.net."
[cdn.fastly]
target = "live.global.fastly.example.net."

[policy.live]
ttl = 20
[policy.live.region.kr]
weights = { fastly = 100, akamai = 0 }
[policy.live.region.default]
weights = { akamai = 100, fastly = 0 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// busyEnv names the deadline (Unix nanoseconds) until which
// TestHelperBusyLoop spins, when the test binary runs as a CPU hog.
const busyEnv = "CDNSTEER_TEST_BUSY_UNTIL"

// TestHelperBusyLoop is not a test: run with busyEnv set, it keeps one
// CPU busy until the deadline.
func TestHelperBusyLoop(t *testing.T) {
	until, err := strconv.ParseInt(os.Getenv(busyEnv), 10, 64)
	if err != nil {
		t.Skip("a CPU hog for other tests")
	}
	for x := 0; time.Now().UnixNano() < until; x++ {
	}
}

// hogCPUs keeps every CPU of the machine busy for d with child processes,
// which the test kills when it ends.
func hogCPUs(t *testing.T, d time.Duration) {
	t.Helper()
	until := strconv.FormatInt(time.Now().Add(d).UnixNano(), 10)
	for range runtime.NumCPU() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBusyLoop$", "-test.count=1")
		cmd.Env = append(os.Environ(), busyEnv+"="+until)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
}

// TestGeoIPSwapsWhileCPUsBusy replaces the GeoIP database again and
// again, alternately with a corrupt file and a good one (written aside and
// renamed into place, as geoipupdate does), while every CPU is kept busy
// by other processes, and asks the server a question every 250 ms: every
// probe must be answered within a second, from the good database, and
// every scrape of /metrics within two. The failed loads must be logged
// while the server runs, not when it stops.
func TestGeoIPSwapsWhileCPUsBusy(t *testing.T) {
	for _, c := range []struct {
		name string
		cpu  func(*testing.T) int
	}{
		{"all CPUs", func(*testing.T) int { return -1 }},
		{"one CPU", firstCPU},
	} {
		t.Run(c.name, func(t *testing.T) { geoSwapUnderLoad(t, c.cpu(t)) })
	}
}

// swapNets are 65,536 /24s, 1.0.0.0 to 1.255.255.0, enough that loading
// them takes the server some work and memory; 1.16.0.0/16 is in Korea.
func swapNets() []geotest.Network {
	countries := [][2]string{{"US", "NA"}, {"DE", "EU"}, {"JP", "AS"}, {"BR", "SA"}}
	nets := make([]geotest.Network, 0, 1<<16)
	for i := range 1 << 16 {
		c := countries[i%len(countries)]
		if i>>8 == 16 {
			c = [2]string{"KR", "AS"}
		}
		nets = append(nets, geotest.Network{CIDR: fmt.Sprintf("1.%d.%d.0/24", i>>8, i&255), Country: c[0], Continent: c[1]})
	}
	return nets
}

func geoSwapUnderLoad(t *testing.T, cpu int) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "GeoLite2-Country.mmdb")
	good := geotest.Build(t, geotest.Country, swapNets())
	garbage := []byte(strings.Repeat("not a MaxMind database\n", 4096))
	replace := func(content []byte) {
		tmp := dbPath + ".tmp"
		if err := os.WriteFile(tmp, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, dbPath); err != nil {
			t.Fatal(err)
		}
	}
	replace(good)
	policy := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(policy, []byte(geoSwapPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServerProc(t, policy, 2, cpu)

	const (
		swaps      = 20
		swapEvery  = 400 * time.Millisecond
		probeEvery = 250 * time.Millisecond
	)
	hogCPUs(t, swaps*swapEvery+5*time.Second)

	scrapeErrs := make(chan error, 1)
	stopScrapes := make(chan struct{})
	go func() {
		c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var err error
		for n := 0; n < swaps && err == nil; n++ {
			select {
			case <-stopScrapes:
				scrapeErrs <- nil
				return
			case <-tick.C:
			}
			var resp *http.Response
			if resp, err = c.Get("http://" + p.http + "/metrics"); err == nil {
				resp.Body.Close()
			}
		}
		scrapeErrs <- err
	}()

	probe := &dns.Client{Net: "udp", Timeout: time.Second}
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24,
		Address: []byte{1, 16, 7, 0}})
	var failures []string
	probes := 0
	start := time.Now()
	nextSwap, nextProbe := start.Add(swapEvery), start
	for n := 0; n < swaps; {
		now := time.Now()
		if !now.Before(nextSwap) {
			n++
			switch n % 4 {
			case 1:
				replace(good[:len(good)/2]) // cut short, as by a full disk
			case 3:
				replace(garbage)
			default:
				replace(good)
			}
			nextSwap = nextSwap.Add(swapEvery)
		}
		if !now.Before(nextProbe) {
			probes++
			q.Id = dns.Id()
			r, rtt, err := probe.Exchange(q, p.dns[probes%len(p.dns)])
			at := time.Since(start).Round(time.Millisecond)
			switch {
			case err != nil:
				failures = append(failures, fmt.Sprintf("at %v: %v", at, err))
			case r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1:
				failures = append(failures, fmt.Sprintf("at %v: %v", at, r))
			case !strings.Contains(r.Answer[0].String(), "fastly"):
				failures = append(failures, fmt.Sprintf("at %v: a KR client got %v: the good database was not in force", at, r.Answer[0]))
			case rtt > time.Second:
				failures = append(failures, fmt.Sprintf("at %v: answered after %v", at, rtt))
			}
			nextProbe = nextProbe.Add(probeEvery)
		}
		time.Sleep(min(time.Until(nextSwap), time.Until(nextProbe)))
	}
	close(stopScrapes)
	if err := <-scrapeErrs; err != nil {
		t.Errorf("GET /metrics: %v", err)
	}
	// The last file was good; the corrupt ones before it were reported as
	// they were met.
	await(t, "the failed loads in the log", 5*time.Second, func() bool {
		return strings.Contains(p.log.String(), "GeoIP database not loaded")
	})
	p.stop(t, maxExit)
	t.Logf("%d swaps, %d probes, %d failed; %d loads and %d failed loads logged", swaps, probes, len(failures),
		strings.Count(p.log.String(), "GeoIP database loaded"), strings.Count(p.log.String(), "GeoIP database not loaded"))
	for _, f := range failures {
		t.Error("probe " + f)
	}
}
