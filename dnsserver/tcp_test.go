package dnsserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stalledMessage is a length prefix promising 32 bytes followed by one.
var stalledMessage = []byte{0x00, 0x20, 0x12}

// tcpAbuser keeps n connections open from src, each sending hello and
// then waiting for the server to close it, and reopens every one the
// server closes, until stop.
type tcpAbuser struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	dials  atomic.Int64
	// opened is closed when every one of the n connections has been
	// opened once.
	opened chan struct{}

	mu    sync.Mutex
	conns map[net.Conn]bool
}

func startAbuser(t *testing.T, addr, src string, n int, hello []byte) *tcpAbuser {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &tcpAbuser{cancel: cancel, conns: map[net.Conn]bool{}, opened: make(chan struct{})}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
	for range n {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			var b [64]byte
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					// Ports or the backlog exhausted for a moment: the
					// other connections keep the pressure on.
					select {
					case <-ctx.Done():
					case <-time.After(10 * time.Millisecond):
					}
					continue
				}
				if a.dials.Add(1) == int64(n) {
					close(a.opened)
				}
				if !a.track(c) {
					return
				}
				if len(hello) > 0 {
					c.Write(hello)
				}
				for {
					if _, err := c.Read(b[:]); err != nil {
						break
					}
				}
				a.untrack(c)
			}
		}()
	}
	t.Cleanup(a.stop)
	return a
}

// track registers c so that stop can close it; false once stopping.
func (a *tcpAbuser) track(c net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.conns == nil {
		c.Close()
		return false
	}
	a.conns[c] = true
	return true
}

func (a *tcpAbuser) untrack(c net.Conn) {
	a.mu.Lock()
	delete(a.conns, c)
	a.mu.Unlock()
	c.Close()
}

func (a *tcpAbuser) stop() {
	a.cancel()
	a.mu.Lock()
	for c := range a.conns {
		c.Close()
	}
	a.conns = nil
	a.mu.Unlock()
	a.wg.Wait()
}

// waitOpened waits until the abuser has opened as many connections as
// it holds.
func (a *tcpAbuser) waitOpened(t *testing.T) {
	t.Helper()
	select {
	case <-a.opened:
	case <-time.After(5 * time.Second):
		t.Fatalf("the abuser opened only %d connections in 5 s", a.dials.Load())
	}
}

// legitTCPQueries sends n queries from src, each on a new connection and
// each allowed timeout, starting one every interval. It returns how many
// were answered and the first few errors.
func legitTCPQueries(addr, src string, n int, interval, timeout time.Duration) (int, []error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: timeout}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		answered int
		errs     []error
	)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := range n {
		if i > 0 {
			<-tick.C
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := d.Dial("tcp", addr)
			if err == nil {
				c.SetDeadline(start.Add(timeout))
				err = tcpAsk(c)
				c.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				answered++
			} else if len(errs) < 5 {
				errs = append(errs, fmt.Errorf("after %v: %w", time.Since(start).Round(time.Millisecond), err))
			}
		}()
	}
	wg.Wait()
	return answered, errs
}

// abuses are the two ways of holding connections without asking.
var abuses = []struct {
	name  string
	hello []byte
}{
	{"stalled message", stalledMessage},
	{"idle churn", nil},
}

// checkLegitAnswered sends 30 queries from 127.0.0.2, each allowed 3 s
// as a resolver would before trying elsewhere, and wants at least 29
// answered.
func checkLegitAnswered(t *testing.T, addr string) {
	t.Helper()
	answered, errs := legitTCPQueries(addr, "127.0.0.2", 30, 100*time.Millisecond, 3*time.Second)
	t.Logf("%d of 30 legitimate queries answered", answered)
	if answered < 29 {
		t.Errorf("%d of 30 legitimate queries answered, want at least 29; failures: %v", answered, errs)
	}
}

// TestTCPAbuserCannotStarveOthers: one client holds more connections
// than the server has slots, each stalled inside a message or idle, and
// reopens each one the server closes; queries from another address must
// still be answered.
func TestTCPAbuserCannotStarveOthers(t *testing.T) {
	const abuserConns = DefaultMaxTCPConns + 6
	for _, tt := range abuses {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startServerWith(t, Options{UDPSockets: 1}, "127.0.0.1:0")
			addr := s.Addrs()[0].String()
			a := startAbuser(t, addr, "127.0.0.3", abuserConns, tt.hello)
			a.waitOpened(t)
			checkLegitAnswered(t, addr)
			t.Logf("the abuser opened %d connections", a.dials.Load())
		})
	}
}

// TestTCPManyAbusersCannotStarveOthers: eight addresses, each within the
// per-client limit, together hold more connections than the server has
// slots and reopen every one closed, faster than a legitimate client
// connects; that client must still get its share.
func TestTCPManyAbusersCannotStarveOthers(t *testing.T) {
	for _, tt := range abuses {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := startServerWith(t, Options{UDPSockets: 1, MaxTCPConns: 64}, "127.0.0.1:0")
			addr := s.Addrs()[0].String()
			var as []*tcpAbuser
			for i := range 8 {
				as = append(as, startAbuser(t, addr, fmt.Sprintf("127.0.0.%d", 10+i), 12, tt.hello))
			}
			for _, a := range as {
				a.waitOpened(t)
			}
			checkLegitAnswered(t, addr)
		})
	}
}

// TestTCPStalledMessageTimesOut: a client that sends a length and less
// than the message is cut off after tcpMessageTimeout, not after the
// idle timeout.
func TestTCPStalledMessageTimesOut(t *testing.T) {
	s, _ := startServerWith(t, Options{UDPSockets: 1, TCPIdleTimeout: 10 * time.Second}, "127.0.0.1:0")
	c, err := net.Dial("tcp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetDeadline(start.Add(tcpMessageTimeout + 2*time.Second))
	if _, err := c.Write(stalledMessage); err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := c.Read(b[:]); err != io.EOF {
		t.Fatalf("read = %v, want EOF from the server closing the connection within %v", err, tcpMessageTimeout+2*time.Second)
	}
	t.Logf("stalled connection closed after %v", time.Since(start).Round(time.Millisecond))
}

// TestTCPPerClientLimit: a client at its limit gets further connections
// closed at once, others are not affected, and a closed connection gives
// the client its room back.
func TestTCPPerClientLimit(t *testing.T) {
	s, _ := startServerWith(t, Options{UDPSockets: 1, MaxTCPPerClient: 3}, "127.0.0.1:0")
	addr := s.Addrs()[0].String()
	dial := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(3 * time.Second))
		return c
	}
	var held []net.Conn
	for range 3 {
		c := dial("127.0.0.3")
		if err := tcpAsk(c); err != nil {
			t.Fatalf("connection within the limit: %v", err)
		}
		held = append(held, c)
	}
	if err := tcpAsk(dial("127.0.0.3")); err == nil {
		t.Fatal("a fourth connection from the same address was answered")
	}
	if err := tcpAsk(dial("127.0.0.2")); err != nil {
		t.Fatalf("another address: %v", err)
	}
	held[0].Close()
	await(t, s, "the closed connection uncounted", func() bool {
		return s.perClient[netip.MustParseAddr("127.0.0.3")] < 3
	})
	if err := tcpAsk(dial("127.0.0.3")); err != nil {
		t.Fatalf("after closing one: %v", err)
	}
}

func TestClientNet(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":              "192.0.2.1",
		"::ffff:192.0.2.1":       "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":   "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1":   "2001:db8:1:2::",
		"2001:db8:1:3::1":        "2001:db8:1:3::",
		"::1":                    "::",
		"fe80::1%eth0":           "fe80::",
		"2001:db8::8:800:200c:0": "2001:db8::",
	} {
		if got := clientNet(netip.MustParseAddr(in)); got != netip.MustParseAddr(want) {
			t.Errorf("clientNet(%s) = %v, want %s", in, got, want)
		}
	}
}

// await waits, up to 3 s, until cond holds; cond runs with s.mu held.
func await(t *testing.T, s *Server, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 s, still not %s", what)
		}
		runtime.Gosched()
	}
}

// countConns counts the server's connections for which ok holds; s.mu
// must be held.
func countConns(s *Server, ok func(*tcpConn) bool) int {
	n := 0
	for _, tc := range s.conns {
		if ok(tc) {
			n++
		}
	}
	return n
}

// TestTCPStalledConnectionGivesWayFirst: with every slot taken, a new
// client gets the slot of the connection stalled inside a message rather
// than that of an idle one, even one idle longer.
func TestTCPStalledConnectionGivesWayFirst(t *testing.T) {
	s, _ := startServerWith(t, Options{UDPSockets: 1, MaxTCPConns: 3}, "127.0.0.1:0")
	addr := s.Addrs()[0].String()
	dial := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(3 * time.Second))
		return c
	}
	idle1 := dial("127.0.0.2")
	if err := tcpAsk(idle1); err != nil {
		t.Fatal(err)
	}
	idle2 := dial("127.0.0.3")
	if err := tcpAsk(idle2); err != nil {
		t.Fatal(err)
	}
	stalled := dial("127.0.0.4")
	if _, err := stalled.Write(stalledMessage); err != nil {
		t.Fatal(err)
	}
	await(t, s, "a connection stalled inside a message", func() bool {
		return countConns(s, func(tc *tcpConn) bool { return tc.stalledSince.Load() != 0 }) == 1
	})
	if err := tcpAsk(dial("127.0.0.5")); err != nil {
		t.Fatalf("new client with every slot taken: %v", err)
	}
	var b [1]byte
	if _, err := stalled.Read(b[:]); err != io.EOF {
		t.Fatalf("stalled connection: read = %v, want EOF", err)
	}
	for _, c := range []net.Conn{idle1, idle2} {
		if err := tcpAsk(c); err != nil {
			t.Fatalf("an idle connection was closed instead: %v", err)
		}
	}
}

// TestTCPClientWithFewTakesASlotFromOneWithMany: with every slot taken by
// one client's connections, none idle for long, a new client still gets
// a slot: under pressure the slots are shared out among clients.
func TestTCPClientWithFewTakesASlotFromOneWithMany(t *testing.T) {
	s, _ := startServerWith(t, Options{UDPSockets: 1, MaxTCPConns: 3}, "127.0.0.1:0")
	addr := s.Addrs()[0].String()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}
	var many []net.Conn
	for range 3 {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(3 * time.Second))
		many = append(many, c)
	}
	await(t, s, "three connections waiting for a query", func() bool {
		return countConns(s, func(tc *tcpConn) bool { return tc.idleSince.Load() != 0 }) == 3
	})
	d.LocalAddr = &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if err := tcpAsk(c); err != nil {
		t.Fatalf("new client with every slot taken by another: %v", err)
	}
	answered := 0
	for _, c := range many {
		if tcpAsk(c) == nil {
			answered++
		}
	}
	if answered != 2 {
		t.Errorf("%d of the first client's 3 connections still answer, want 2", answered)
	}
}
