package dnsserver

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// startServer runs the real listeners on ephemeral loopback ports.
func startServer(t *testing.T, addrs ...string) (*Server, *Handler) {
	t.Helper()
	return startServerWith(t, Options{UDPSockets: 2, TCPIdleTimeout: 300 * time.Millisecond}, addrs...)
}

// startServerWith is startServer with the given options.
func startServerWith(t *testing.T, opts Options, addrs ...string) (*Server, *Handler) {
	t.Helper()
	h := testHandler(t)
	var aps []netip.AddrPort
	for _, a := range addrs {
		aps = append(aps, netip.MustParseAddrPort(a))
	}
	s, err := Listen(aps, h, opts)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return s, h
}

func TestServerAnswersOverUDPAndTCP(t *testing.T) {
	s, _ := startServer(t, "127.0.0.1:0", "[::1]:0")
	if len(s.Addrs()) != 2 {
		t.Fatalf("bound %v, want two addresses", s.Addrs())
	}
	for _, addr := range s.Addrs() {
		if addr.Port() == 0 {
			t.Fatalf("address %v has no port", addr)
		}
		for _, proto := range []string{"udp", "tcp"} {
			t.Run(addr.String()+"/"+proto, func(t *testing.T) {
				c := &dns.Client{Net: proto, Timeout: 2 * time.Second}
				q := new(dns.Msg)
				q.SetQuestion("Stream.Live.Example.Com.", dns.TypeA)
				q.SetEdns0(1232, false)
				r, _, err := c.Exchange(q, addr.String())
				if err != nil {
					t.Fatalf("exchange: %v", err)
				}
				if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
					t.Fatalf("reply = %v", r)
				}
				cn, ok := r.Answer[0].(*dns.CNAME)
				if !ok || cn.Hdr.Name != "Stream.Live.Example.Com." || !strings.HasSuffix(cn.Target, ".cdn.example.net.") {
					t.Errorf("answer = %v", r.Answer[0])
				}
			})
		}
	}
}

func TestTruncatedUDPThenTCP(t *testing.T) {
	s, _ := startServer(t, "127.0.0.1:0")
	addr := s.Addrs()[0].String()
	q := new(dns.Msg)
	q.SetQuestion("big.live.example.com.", dns.TypeTXT)
	r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(q, addr)
	if err != nil || !r.Truncated {
		t.Fatalf("UDP: %v, %v; want a truncated reply", r, err)
	}
	r, _, err = (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(q, addr)
	if err != nil || r.Truncated || len(r.Answer) != 3 {
		t.Fatalf("TCP retry: %v, %v; want the full answer", r, err)
	}
}

// TestTCPPipelining sends several queries on one connection before reading
// any reply, as RFC 7766 allows, and expects every one answered.
func TestTCPPipelining(t *testing.T) {
	s, _ := startServer(t, "127.0.0.1:0")
	conn, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	names := []string{"live.example.com.", "stream.live.example.com.", "nope.live.example.com.", "player.live.example.com.", "example.org."}
	var batch []byte
	for i, n := range names {
		q := new(dns.Msg)
		q.SetQuestion(n, dns.TypeA)
		q.Id = uint16(100 + i)
		pkt, _ := q.Pack()
		batch = binary.BigEndian.AppendUint16(batch, uint16(len(pkt)))
		batch = append(batch, pkt...)
	}
	if _, err := conn.Write(batch); err != nil {
		t.Fatal(err)
	}
	seen := map[uint16]bool{}
	for range names {
		var l [2]byte
		if _, err := io.ReadFull(conn, l[:]); err != nil {
			t.Fatalf("read length: %v (answers so far %v)", err, seen)
		}
		buf := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(conn, buf); err != nil {
			t.Fatal(err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(buf); err != nil {
			t.Fatal(err)
		}
		seen[r.Id] = true
	}
	for i := range names {
		if !seen[uint16(100+i)] {
			t.Errorf("query %d (%s) not answered", 100+i, names[i])
		}
	}
}

func TestIdleTCPConnectionIsClosed(t *testing.T) {
	s, _ := startServer(t, "127.0.0.1:0")
	conn, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server's idle timeout is 300ms; give it ample time to act, and
	// fail only if it never closes.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	if _, err := conn.Read(b[:]); err != io.EOF {
		t.Fatalf("read on an idle connection = %v, want EOF from the server closing it", err)
	}
}

func TestServerSurvivesGarbage(t *testing.T) {
	s, _ := startServer(t, "127.0.0.1:0")
	addr := s.Addrs()[0].String()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, junk := range [][]byte{{}, {0}, make([]byte, 11), {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63}, bytesOf(0xff, 600)} {
		c.Write(junk)
	}
	// TCP: a length prefix promising more than is sent, then hang up.
	tc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tc.Write([]byte{0x10, 0x00, 1, 2, 3})
	tc.Close()

	q := new(dns.Msg)
	q.SetQuestion("live.example.com.", dns.TypeSOA)
	r, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(q, addr)
	if err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("after garbage: %v, %v", r, err)
	}
}

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestListenFailsCleanlyOnTakenPort(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ap := taken.LocalAddr().(*net.UDPAddr).AddrPort()
	if _, err := Listen([]netip.AddrPort{ap}, testHandler(t), Options{}); err == nil {
		t.Fatal("Listen on a port another socket holds succeeded")
	}
}

// Found by scripts/conformance.sh: a second server on an address already
// served must fail, not quietly share the UDP queries through
// SO_REUSEPORT.
func TestSecondServerOnTheSameAddressFails(t *testing.T) {
	s, _ := startServer(t, "127.0.0.1:0")
	if _, err := Listen(s.Addrs(), testHandler(t), Options{UDPSockets: 1}); err == nil {
		t.Fatal("a second server bound the address the first serves")
	}
}

// TestGCCompletesWhileReadersWait guards the batched reader: it waits in
// the kernel in a raw system call, where the runtime cannot preempt it, so
// a stop-the-world (the GC) must still get through while it idles.
func TestGCCompletesWhileReadersWait(t *testing.T) {
	startServer(t, "127.0.0.1:0")
	for i := 0; i < 3; i++ {
		done := make(chan struct{})
		go func() { runtime.GC(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a GC did not complete while the UDP readers waited for queries")
		}
	}
}

func TestIdleTimeoutShrinksUnderPressure(t *testing.T) {
	s := &Server{opts: Options{TCPIdleTimeout: 10 * time.Second}, tcpSlots: make(chan struct{}, 4)}
	for used, want := range []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 5 * time.Second, time.Second} {
		for len(s.tcpSlots) < used {
			s.tcpSlots <- struct{}{}
		}
		if got := s.idleTimeout(); got != want {
			t.Errorf("%d of 4 connections open: idle timeout %v, want %v", used, got, want)
		}
	}
}

// TestIdleConnectionsCannotHoldTCP fills the connection slots: the last
// connection must be closed after a tenth of the idle timeout, while the
// first, opened when the server had room, still gets answers.
func TestIdleConnectionsCannotHoldTCP(t *testing.T) {
	s, _ := startServerWith(t, Options{UDPSockets: 1, TCPIdleTimeout: 5 * time.Second, MaxTCPConns: 4}, "127.0.0.1:0")
	var conns []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", s.Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(4 * time.Second))
		// An answer means the server holds the connection's slot.
		if err := tcpAsk(c); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	start := time.Now()
	var b [1]byte
	if _, err := conns[3].Read(b[:]); err != io.EOF {
		t.Fatalf("the connection that took the last slot: read = %v, want EOF from the server closing it within 4 s", err)
	}
	t.Logf("last connection closed after %v idle", time.Since(start).Round(time.Millisecond))
	if err := tcpAsk(conns[0]); err != nil {
		t.Fatalf("the first connection no longer answers: %v", err)
	}
}

// TestIdleConnectionGivesWayToANewClient: with every slot taken by a
// connection waiting for a query, a new client is served and the
// connection idle longest is closed, instead of the new one.
func TestIdleConnectionGivesWayToANewClient(t *testing.T) {
	s, _ := startServerWith(t, Options{UDPSockets: 1, TCPIdleTimeout: 10 * time.Second, MaxTCPConns: 2, minIdleToEvict: time.Nanosecond}, "127.0.0.1:0")
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.Addrs()[0].String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := tcpAsk(c); err != nil {
			t.Fatalf("query on a new connection: %v", err)
		}
		return c
	}
	idle := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for _, tc := range s.conns {
			if tc.idleSince.Load() != 0 {
				n++
			}
		}
		return n
	}
	first := dial()
	for idle() < 1 {
		runtime.Gosched()
	}
	second := dial()
	for idle() < 2 {
		runtime.Gosched()
	}
	dial() // the third, with both slots taken by idle connections
	var b [1]byte
	if _, err := first.Read(b[:]); err != io.EOF {
		t.Fatalf("the connection idle longest: read = %v, want EOF", err)
	}
	if err := tcpAsk(second); err != nil {
		t.Fatalf("the other connection no longer answers: %v", err)
	}
}

// tcpAsk sends one steered query over c and reads the answer.
func tcpAsk(c net.Conn) error {
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	pkt, _ := q.Pack()
	if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(pkt))), pkt...)); err != nil {
		return err
	}
	var l [2]byte
	if _, err := io.ReadFull(c, l[:]); err != nil {
		return err
	}
	_, err := io.ReadFull(c, make([]byte, binary.BigEndian.Uint16(l[:])))
	return err
}
