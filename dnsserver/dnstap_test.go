package dnsserver

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/zones"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startTapper gives h a dnstap output following cfg, closed at cleanup.
func startTapper(t *testing.T, h *Handler, cfg *zones.Dnstap) (*Tapper, *TapMetrics) {
	t.Helper()
	m := NewTapMetrics(prometheus.NewRegistry())
	tp := NewTapper(h, m, quiet, "cdnsteer test")
	tp.Follow(cfg)
	t.Cleanup(tp.Close)
	return tp, m
}

// tapSocket is a Unix socket path short enough for sun_path.
func tapSocket(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// tapAsk sends name over net ("udp" or "tcp") from a socket of its own and
// returns the client's address and the answer.
func tapAsk(t *testing.T, network, server, name string) (netip.AddrPort, *dns.Msg) {
	t.Helper()
	c, err := net.Dial(network, server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	conn := &dns.Conn{Conn: c}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteMsg(q); err != nil {
		t.Fatal(err)
	}
	r, err := conn.ReadMsg()
	if err != nil {
		t.Fatalf("%s %s: %v", network, name, err)
	}
	var local netip.AddrPort
	switch a := c.LocalAddr().(type) {
	case *net.UDPAddr:
		local = a.AddrPort()
	case *net.TCPAddr:
		local = a.AddrPort()
	}
	return local, r
}

// Over a Unix socket, after the Frame Streams handshake, every query
// (UDP and TCP, IPv4 and IPv6) arrives as AUTH_QUERY and AUTH_RESPONSE
// with its name, the client's and server's addresses and ports, the
// transport, the identity and version, and the reply as sent.
func TestDnstapSocketLogsQueriesAndReplies(t *testing.T) {
	srv, h := startServer(t, "127.0.0.1:0", "[::1]:0")
	path := tapSocket(t)
	reader := listenTap(t, path, false)
	tp, m := startTapper(t, h, &zones.Dnstap{Socket: path, Sample: 1, Rate: 1000, Identity: "ns-test"})

	type sent struct {
		name   string
		client netip.AddrPort
		server netip.AddrPort
		tcp    bool
		reply  *dns.Msg
	}
	var all []sent
	for i, server := range srv.Addrs() {
		for _, network := range []string{"udp", "tcp"} {
			name := fmt.Sprintf("q%d-%s.live.example.com.", i, network)
			if network == "tcp" && i == 0 {
				name = "stream.live.example.com."
			}
			client, r := tapAsk(t, network, server.String(), name)
			all = append(all, sent{name, client, server, network == "tcp", r})
		}
	}
	awaitTap(t, "every query and reply logged", func() bool { return len(reader.messages()) >= 2*len(all) })
	msgs := reader.messages()
	for _, s := range all {
		var q, r *tapMsg
		for i := range msgs {
			m := &msgs[i]
			var dm dns.Msg
			if dm.Unpack(m.query) != nil || len(dm.Question) != 1 || dm.Question[0].Name != s.name {
				continue
			}
			switch m.kind {
			case 1:
				q = m
			case 2:
				r = m
			}
		}
		if q == nil || r == nil {
			t.Errorf("%s: query %v reply %v logged", s.name, q != nil, r != nil)
			continue
		}
		for _, m := range []*tapMsg{q, r} {
			family, proto := uint64(1), uint64(1)
			if s.client.Addr().Is6() {
				family = 2
			}
			if s.tcp {
				proto = 2
			}
			if m.identity != "ns-test" || m.version != "cdnsteer test" || m.typ != 1 || m.family != family || m.proto != proto {
				t.Errorf("%s: identity %q version %q type %d family %d proto %d", s.name, m.identity, m.version, m.typ, m.family, m.proto)
			}
			if m.qaddr != s.client.Addr() || m.qport != uint64(s.client.Port()) || m.raddr != s.server.Addr() || m.rport != uint64(s.server.Port()) {
				t.Errorf("%s: logged %s:%d -> %s:%d, sent %s -> %s", s.name, m.qaddr, m.qport, m.raddr, m.rport, s.client, s.server)
			}
			if d := time.Since(time.Unix(int64(m.qsec), int64(m.qnsec))); d < 0 || d > time.Minute {
				t.Errorf("%s: query time %v ago", s.name, d)
			}
		}
		var logged dns.Msg
		if err := logged.Unpack(r.response); err != nil || logged.String() != s.reply.String() {
			t.Errorf("%s: logged reply %v differs from the one received %v (%v)", s.name, &logged, s.reply, err)
		}
		if q.response != nil {
			t.Errorf("%s: AUTH_QUERY carries a response", s.name)
		}
	}
	if v := testutil.ToFloat64(m.written); v < float64(2*len(all)) {
		t.Errorf("messages_total %v", v)
	}
	if v := testutil.ToFloat64(m.connected); v != 1 {
		t.Errorf("dnstap_up %v", v)
	}
	// Stopping ends the stream: STOP, answered by FINISH.
	tp.Close()
	awaitTap(t, "FINISH", func() bool { reader.mu.Lock(); defer reader.mu.Unlock(); return reader.finished == 1 })
	if len(reader.errs) > 0 {
		t.Errorf("reader: %v", reader.errs)
	}
}

// queryMany asks n names over UDP, one after the other, each answered
// within its client's timeout, and returns how many were.
func queryMany(t *testing.T, server string, n int) int {
	t.Helper()
	c, err := net.Dial("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := &dns.Conn{Conn: c}
	answered := 0
	for i := range n {
		q := new(dns.Msg)
		q.SetQuestion(fmt.Sprintf("n%d.live.example.com.", i), dns.TypeA)
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := conn.WriteMsg(q); err != nil {
			t.Fatal(err)
		}
		for {
			r, err := conn.ReadMsg()
			if err != nil {
				t.Fatalf("query %d of %d unanswered: %v", i, n, err)
			}
			if r.Id == q.Id {
				answered++
				break
			}
		}
	}
	return answered
}

func dropped(m *TapMetrics) float64 {
	return testutil.ToFloat64(m.full) + testutil.ToFloat64(m.noReader)
}

// A reader that takes the handshake and then reads nothing fills the
// socket, then the ring: queries go on being answered and what cannot be
// logged is counted.
func TestDnstapStalledReaderNeverBlocksQueries(t *testing.T) {
	srv, h := startServer(t, "127.0.0.1:0")
	path := tapSocket(t)
	reader := listenTap(t, path, true)
	_, m := startTapper(t, h, &zones.Dnstap{Socket: path, Sample: 1, Rate: maxRate()})
	server := srv.Addrs()[0].String()
	awaitTap(t, "the handshake", func() bool { reader.mu.Lock(); defer reader.mu.Unlock(); return reader.accepted > 0 })
	total := 0
	for round := 0; dropped(m) == 0; round++ {
		if round == 20 {
			t.Fatalf("%d queries, nothing dropped though the reader reads nothing", total)
		}
		total += queryMany(t, server, 2000)
	}
	t.Logf("%d queries answered; dropped: full %v, no reader %v", total, testutil.ToFloat64(m.full), testutil.ToFloat64(m.noReader))
}

// With no reader at all (the socket is gone), every query is answered and
// the sampled ones are counted as dropped; when a reader comes, the
// writer connects to it and logging resumes.
func TestDnstapGoneReaderThenBack(t *testing.T) {
	srv, h := startServer(t, "127.0.0.1:0")
	path := tapSocket(t)
	_, m := startTapper(t, h, &zones.Dnstap{Socket: path, Sample: 1, Rate: maxRate()})
	server := srv.Addrs()[0].String()
	if got := queryMany(t, server, 500); got != 500 {
		t.Fatalf("%d of 500 answered", got)
	}
	awaitTap(t, "drops counted", func() bool { return testutil.ToFloat64(m.noReader) > 0 })
	if v := testutil.ToFloat64(m.errors); v == 0 {
		t.Error("failed connections not counted")
	}
	reader := listenTap(t, path, false)
	awaitTap(t, "logging to resume", func() bool {
		tapAsk(t, "udp", server, "back.live.example.com.")
		return len(reader.messages()) > 0
	})
}

func maxRate() int { return 1_000_000 }

// The sample share holds, and the rate bound caps what is logged at
// rate a second plus its burst, whatever the sample lets through.
func TestDnstapSampleAndRate(t *testing.T) {
	m := NewTapMetrics(prometheus.NewRegistry())
	tap := newTap(zones.Dnstap{Sample: 0.25, Rate: maxRate()}, m)
	q := []byte("query-bytes")
	client, server := netip.MustParseAddrPort("192.0.2.1:5353"), netip.MustParseAddrPort("127.0.0.1:53")
	drain := func() int {
		n := 0
		for s := tap.ring.next(); s != nil; s = tap.ring.next() {
			tap.ring.release(s)
			n++
		}
		return n
	}
	const n = 40000
	logged := 0
	for i := range n {
		tap.record(q, q, client, server, false)
		if i%512 == 0 {
			logged += drain()
		}
	}
	logged += drain()
	// 0.25 of 40,000: 10,000 with a standard deviation of 87.
	if logged < 9600 || logged > 10400 || testutil.ToFloat64(m.full) != 0 {
		t.Errorf("sample 0.25: %d of %d logged (full %v)", logged, n, testutil.ToFloat64(m.full))
	}

	tap = newTap(zones.Dnstap{Sample: 1, Rate: 100}, m)
	start := time.Now()
	logged = 0
	for range n {
		tap.record(q, nil, client, server, false)
		logged += drain()
	}
	elapsed := time.Since(start).Seconds()
	limit := 1 + int(math.Ceil(100*tapBurst)) + int(math.Ceil(elapsed*100))
	if logged < 1 || logged > limit {
		t.Errorf("rate 100/s: %d logged in %.3fs, want at most %d", logged, elapsed, limit)
	}
	if v := testutil.ToFloat64(m.rate); int(v) != n-logged {
		t.Errorf("rate drops %v, want %d", v, n-logged)
	}
}

// A file gets a unidirectional stream: START with the content type, the
// messages, STOP; a file already there is kept as .prev, and a reopen
// after it was moved starts a new one.
func TestDnstapFile(t *testing.T) {
	srv, h := startServer(t, "127.0.0.1:0")
	dir := t.TempDir()
	path := filepath.Join(dir, "q.dnstap")
	os.WriteFile(path, []byte("older"), 0o644)
	tp, _ := startTapper(t, h, &zones.Dnstap{File: path, Sample: 1, Rate: 1000, Identity: "ns-file"})
	server := srv.Addrs()[0].String()
	tapAsk(t, "udp", server, "one.live.example.com.")
	awaitTap(t, "the first file written", func() bool { return len(readFile(t, path, false)) >= 2 })
	if old, _ := os.ReadFile(path + ".prev"); string(old) != "older" {
		t.Errorf(".prev holds %q", old)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	tp.Reopen()
	awaitTap(t, "a new file", func() bool { _, err := os.Stat(path); return err == nil })
	tapAsk(t, "udp", server, "two.live.example.com.")
	tp.Close()
	for file, want := range map[string]string{path + ".1": "one.live.example.com.", path: "two.live.example.com."} {
		msgs := readFile(t, file, true)
		if len(msgs) != 2 {
			t.Errorf("%s: %d messages", file, len(msgs))
			continue
		}
		var dm dns.Msg
		if err := dm.Unpack(msgs[1].response); err != nil || dm.Question[0].Name != want || msgs[0].identity != "ns-file" {
			t.Errorf("%s: %v %v %q", file, dm.Question, err, msgs[0].identity)
		}
	}
}

// readFile decodes a dnstap file; whole: it must end with STOP.
func readFile(t *testing.T, path string, whole bool) []tapMsg {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	r := bytes.NewReader(raw)
	ct, err := expectControl(r, 2)
	if err != nil || ct != testContentType {
		if whole {
			t.Fatalf("%s: START %q %v", path, ct, err)
		}
		return nil
	}
	var msgs []tapMsg
	stopped, err := readStream(r, func(m tapMsg) { msgs = append(msgs, m) })
	if whole && (!stopped || r.Len() != 0) {
		t.Fatalf("%s: stopped %v, %d bytes after, err %v", path, stopped, r.Len(), err)
	}
	return msgs
}

// Many goroutines recording at once through a small ring, with the
// consumer running: every entry is either logged whole or counted full.
func TestDnstapRingConcurrent(t *testing.T) {
	m := NewTapMetrics(prometheus.NewRegistry())
	tap := newTap(zones.Dnstap{Sample: 1, Rate: maxRate()}, m)
	tap.interval, tap.burst = 0, math.MaxInt64/2
	tap.ring = newTapRing(16)
	const writers, each = 8, 5000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	logged := 0
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for {
			s := tap.ring.next()
			if s == nil {
				select {
				case <-stop:
					if tap.ring.next() == nil {
						return
					}
				default:
				}
				runtime.Gosched()
				continue
			}
			want := fmt.Sprintf("w%d", s.client.Port())
			if got := string(s.buf[:s.qlen]); !strings.HasPrefix(got, want+"-") || string(s.buf[s.qlen:s.qlen+s.rlen]) != got+"/r" {
				t.Errorf("slot holds %q / %q", got, s.buf[s.qlen:s.qlen+s.rlen])
			}
			tap.ring.release(s)
			logged++
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := netip.AddrPortFrom(netip.MustParseAddr("192.0.2.1"), uint16(w))
			for i := range each {
				q := fmt.Sprintf("w%d-%d", w, i)
				tap.record([]byte(q), []byte(q+"/r"), client, client, false)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-consumed
	if full := int(testutil.ToFloat64(m.full)); logged+full != writers*each || logged == 0 {
		t.Errorf("logged %d + full %d != %d", logged, full, writers*each)
	}
}
