//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// oneCPUPolicy is zones/examples/live.toml's server: two DNS addresses
// (IPv4 and IPv6 loopback, as there), so two sets of UDP readers.
const oneCPUPolicy = `
[server]
dns = [%q, %q]
http = "127.0.0.1:0"

[regions]
kr = ["KR"]
default = ["*"]

[cdn.akamai]
target = "live.akamaized.example.net."
[cdn.fastly]
target = "live.global.fastly.example.net."

[policy.live]
ttl = 20
[policy.live.region.default]
weights = { akamai = 60, fastly = 40 }

[[zone]]
origin = "live.example.com."
ns = ["ns1.elsewhere.example."]
[[zone.steer]]
name = "stream"
policy = "live"
`

// Limits from the issue for a server pinned to one CPU.
const (
	maxIdleCPU   = 0.01
	maxScrapeP99 = 100 * time.Millisecond
	// A scrape costs a few milliseconds of CPU; a median of tens of
	// milliseconds means the HTTP goroutines wait for a P, which is what
	// the multi-second stalls grow from.
	maxScrapeP50 = 20 * time.Millisecond
	maxExit      = 3 * time.Second
)

// TestOneCPU runs the server as in a container with an exclusive one-CPU
// cpuset: pinned to one CPU from its start. Idle, it must use at most 1 %
// of the CPU, and /metrics must answer with p99 ≤ 100 ms — idle, during a
// burst of DNS queries and after it; SIGTERM must stop it promptly.
//
// Latency on a shared machine also depends on what else runs on that CPU
// (go test runs other packages beside this one), so a round that misses a
// limit is repeated, up to three rounds, each with a fresh server. The
// defect the test guards against fails every round: its median scrape was
// 29–43 ms in every run, and its idle p99 above 100 ms in most.
func TestOneCPU(t *testing.T) {
	const rounds = 3
	var problems []string
	for round := 1; round <= rounds; round++ {
		problems = oneCPURound(t)
		if len(problems) == 0 {
			return
		}
		t.Logf("round %d of %d missed: %v", round, rounds, problems)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// oneCPURound starts a pinned server, measures it idle, under a burst and
// after it, stops it, and returns the limits it missed.
func oneCPURound(t *testing.T) (problems []string) {
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	second := "[::1]:0"
	if c, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
		second = "127.0.0.2:0" // no IPv6 loopback here
	} else {
		c.Close()
	}
	policy := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(policy, []byte(fmt.Sprintf(oneCPUPolicy, "127.0.0.1:0", second)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startServerProc(t, policy, 2, firstCPU(t))
	scrape(t, p.http)
	// Let start-up work (the first GC, the engine's first evaluations)
	// pass before calling the process idle.
	time.Sleep(time.Second)

	idleCPU := p.cpuShare(t, 4*time.Second)
	idle := scrapes(t, p.http, 50, nil)

	var sent, answered atomic.Int64
	var wg sync.WaitGroup
	loadDone := make(chan struct{})
	for _, addr := range p.dns {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, a := askRepeatedly(t, addr, 20000, 3*time.Second)
				sent.Add(s)
				answered.Add(a)
			}()
		}
	}
	go func() { wg.Wait(); close(loadDone) }()
	loaded := scrapes(t, p.http, 200, loadDone)
	<-loadDone

	afterCPU := p.cpuShare(t, 4*time.Second)
	after := scrapes(t, p.http, 50, nil)
	exit := p.stop(t, maxExit)

	t.Logf("idle CPU %.2f %%; /metrics idle p50 %v p99 %v", idleCPU*100, quantile(idle, 0.5), quantile(idle, 0.99))
	t.Logf("burst: %d queries, %d answered; /metrics under load p50 %v p99 %v (%d scrapes)",
		sent.Load(), answered.Load(), quantile(loaded, 0.5), quantile(loaded, 0.99), len(loaded))
	t.Logf("after the burst: CPU %.2f %%; /metrics p50 %v p99 %v; exit %v after SIGTERM",
		afterCPU*100, quantile(after, 0.5), quantile(after, 0.99), exit)
	if idleCPU > maxIdleCPU {
		fail("idle on one CPU, the server used %.2f %% of it, want ≤ %.0f %%", idleCPU*100, maxIdleCPU*100)
	}
	if afterCPU > maxIdleCPU {
		fail("idle again after the burst, the server used %.2f %% of its CPU, want ≤ %.0f %%", afterCPU*100, maxIdleCPU*100)
	}
	for _, c := range []struct {
		when string
		d    []time.Duration
	}{{"idle", idle}, {"under load", loaded}, {"after the burst", after}} {
		if len(c.d) < 10 {
			fail("/metrics %s: only %d scrapes", c.when, len(c.d))
			continue
		}
		if p99 := quantile(c.d, 0.99); p99 > maxScrapeP99 {
			fail("/metrics %s: p99 %v, want ≤ %v", c.when, p99, maxScrapeP99)
		}
		if p50 := quantile(c.d, 0.5); p50 > maxScrapeP50 {
			fail("/metrics %s: median %v, want ≤ %v", c.when, p50, maxScrapeP50)
		}
	}
	if sent.Load() < 1000 || answered.Load() < sent.Load()*99/100 {
		fail("burst: %d of %d queries answered", answered.Load(), sent.Load())
	}
	return problems
}

// scrapes times up to n scrapes of /metrics, stopping early when stop
// (if not nil) is closed.
func scrapes(t *testing.T, httpAddr string, n int, stop <-chan struct{}) []time.Duration {
	t.Helper()
	var ds []time.Duration
	for range n {
		select {
		case <-stop:
			return ds
		default:
		}
		ds = append(ds, scrape(t, httpAddr))
	}
	return ds
}

// askRepeatedly asks for the steered name over one UDP socket, each query
// as soon as the previous one is answered (or after a second without
// answer), at most n times and for at most d.
func askRepeatedly(t *testing.T, addr string, n int, d time.Duration) (sent, answered int64) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Error(err)
		return 0, 0
	}
	defer c.Close()
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	pkt, err := q.Pack()
	if err != nil {
		t.Error(err)
		return 0, 0
	}
	buf := make([]byte, 1232)
	end := time.Now().Add(d)
	for i := 0; i < n && time.Now().Before(end); i++ {
		id := uint16(i)
		pkt[0], pkt[1] = byte(id>>8), byte(id)
		if _, err := c.Write(pkt); err != nil {
			t.Error(err)
			return sent, answered
		}
		sent++
		c.SetReadDeadline(time.Now().Add(time.Second))
		for {
			m, err := c.Read(buf)
			if err != nil {
				break // unanswered
			}
			if m >= 12 && buf[0] == byte(id>>8) && buf[1] == byte(id) {
				answered++
				break
			}
		}
	}
	return sent, answered
}
