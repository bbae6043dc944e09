package dnsserver

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/sys/unix"
)

// packedQuery is a packed A query for the steered name with the given ID.
func packedQuery(t *testing.T, id uint16) []byte {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion("stream.live.example.com.", dns.TypeA)
	q.Id = id
	b, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestShutdownUnderLoadIsPrompt: a server shut down while queries keep
// arriving stops reading at once and returns. It used to read on until
// its sockets had been quiet for 100 ms, which under steady load never
// came: the process took until its shutdown deadline to exit.
func TestShutdownUnderLoadIsPrompt(t *testing.T) {
	h := testHandler(t)
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	c, err := net.Dial("udp", s.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var answered atomic.Int64
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
			answered.Add(1)
		}
	}()
	// A steady flood, about 5,000 queries a second, bounded at 60 s.
	stopFlood := make(chan struct{})
	flooding := make(chan struct{})
	go func() {
		defer close(flooding)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; i < 60000; i++ {
			select {
			case <-stopFlood:
				return
			case <-tick.C:
			}
			for k := 0; k < 5; k++ {
				c.Write(packedQuery(t, uint16(i)))
			}
		}
	}()
	defer func() { close(stopFlood); <-flooding }()
	for deadline := time.Now().Add(20 * time.Second); answered.Load() < 500; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d answers after 20 s of the flood", answered.Load())
		}
	}

	const limit = 5 * time.Second // the old behaviour never got there
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown under load: %v after %v: the readers did not stop", err, time.Since(start))
	}
	t.Logf("Shutdown under a flood of ~5,000 queries/s returned in %v", time.Since(start))
}

// listenPair opens what systemd opens for a socket unit with
// ListenDatagram= and ListenStream= on one address: a UDP socket and a
// TCP listener, returned as files.
func listenPair(t *testing.T, addr string) (udp, tcp *os.File, port uint16) {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	port = uint16(pc.LocalAddr().(*net.UDPAddr).Port)
	l, err := net.Listen("tcp", net.JoinHostPort(strings.Split(addr, ":")[0], strconv.Itoa(int(port))))
	if err != nil {
		t.Fatal(err)
	}
	if udp, err = pc.(*net.UDPConn).File(); err != nil {
		t.Fatal(err)
	}
	if tcp, err = l.(*net.TCPListener).File(); err != nil {
		t.Fatal(err)
	}
	pc.Close()
	l.Close()
	return udp, tcp, port
}

// answers reads replies on c until want have come or the deadline, and
// returns the IDs seen.
func answers(c net.Conn, want int, deadline time.Duration) map[uint16]bool {
	seen := map[uint16]bool{}
	c.SetReadDeadline(time.Now().Add(deadline))
	buf := make([]byte, 1500)
	for len(seen) < want {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		var m dns.Msg
		if m.Unpack(buf[:n]) == nil && m.Rcode == dns.RcodeSuccess && len(m.Answer) == 1 {
			seen[m.Id] = true
		}
	}
	return seen
}

// TestHandedOverSocketsKeepTheirQueue is an upgrade in one process: a
// server takes sockets opened outside (as from systemd), hands them on
// (Files) and shuts down; queries sent while nobody reads wait in the
// socket and the next server, given the handed-on files, answers every
// one of them. The first server must not drain the queue it hands on.
func TestHandedOverSocketsKeepTheirQueue(t *testing.T) {
	h := testHandler(t)
	udp, tcp, port := listenPair(t, "127.0.0.1:0")
	// Configured with port 0: the inherited sockets' port is taken.
	first, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 3, Inherited: []*os.File{udp, tcp}})
	if err != nil {
		t.Fatal(err)
	}
	if got := first.Addrs()[0].Port(); got != port || first.Inherited() != 1 {
		t.Fatalf("served %v (%d inherited), want the inherited port %d", first.Addrs(), first.Inherited(), port)
	}
	if len(first.udp) != 3 {
		t.Fatalf("%d UDP readers on one inherited socket, want 3", len(first.udp))
	}
	first.Serve()
	c, err := net.Dial("udp", first.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The queued queries are answered in a burst: room for all of them
	// (the default queue holds about 256).
	c.(*net.UDPConn).SetReadBuffer(4 << 20)
	c.Write(packedQuery(t, 1))
	if got := answers(c, 1, 5*time.Second); !got[1] {
		t.Fatal("no answer from the server on inherited sockets")
	}
	tc := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion("stream.live.example.com.", dns.TypeA)
	if r, _, err := tc.Exchange(m, first.Addrs()[0].String()); err != nil || len(r.Answer) != 1 {
		t.Fatalf("TCP on the inherited listener: %v %v", r, err)
	}

	files, err := first.Files()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Nobody reads now: these wait in the kernel's queue.
	const queued = 300
	for i := 0; i < queued; i++ {
		if _, err := c.Write(packedQuery(t, uint16(100+i))); err != nil {
			t.Fatal(err)
		}
	}
	second, err := Listen([]netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)}, h, Options{UDPSockets: 2, Inherited: files})
	if err != nil {
		t.Fatal(err)
	}
	second.Serve()
	defer second.Shutdown(t.Context())
	got := answers(c, queued, 10*time.Second)
	if len(got) != queued {
		t.Fatalf("the next server answered %d of the %d queries sent between the two: the queue was lost", len(got), queued)
	}
	if r, _, err := tc.Exchange(m, second.Addrs()[0].String()); err != nil || len(r.Answer) != 1 {
		t.Fatalf("TCP on the handed-on listener: %v %v", r, err)
	}
}

// TestInheritedSocketsMustBeConfigured: a handed-in socket for an address
// server.dns does not list, or an address handed in half (UDP without
// TCP), is an error that names it, not a socket silently left unread.
func TestInheritedSocketsMustBeConfigured(t *testing.T) {
	h := testHandler(t)
	udp, tcp, port := listenPair(t, "127.0.0.1:0")
	other := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port+1)
	if port == 65535 {
		other = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port-1)
	}
	_, err := Listen([]netip.AddrPort{other}, h, Options{Inherited: []*os.File{udp, tcp}})
	want := "127.0.0.1:" + strconv.Itoa(int(port)) + " is for no address of server.dns"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Listen with a socket for another address: %v, want an error saying %q", err, want)
	}

	udp, _, port = listenPair(t, "127.0.0.1:0")
	_, err = Listen([]netip.AddrPort{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)}, h, Options{Inherited: []*os.File{udp}})
	if err == nil || !strings.Contains(err.Error(), "want UDP and TCP") {
		t.Errorf("Listen with UDP only handed in: %v, want an error asking for both", err)
	}

	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{Inherited: []*os.File{f}})
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("Listen with /dev/null handed in: %v, want \"not a socket\"", err)
	}
}

// TestReceiveQueueIsRaised: the UDP sockets ask for a queue that holds
// seconds of queries (what arrives during a restart waits there): the
// full size with CAP_NET_ADMIN (SO_RCVBUFFORCE), else what
// net.core.rmem_max allows. Inherited sockets are raised too.
func TestReceiveQueueIsRaised(t *testing.T) {
	want := WantReceiveBuffer
	if os.Geteuid() != 0 {
		raw, err := os.ReadFile("/proc/sys/net/core/rmem_max")
		if err != nil {
			t.Skip("no /proc/sys/net/core/rmem_max:", err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
		want = min(want, 2*n)
	}
	s, _ := startServer(t, "127.0.0.1:0")
	if got, err := s.ReceiveBuffers(); err != nil || got < want {
		t.Errorf("receive queue of our sockets %d (%v), want at least %d", got, err, want)
	}
	h := testHandler(t)
	udp, tcp, _ := listenPair(t, "127.0.0.1:0")
	in, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{Inherited: []*os.File{udp, tcp}})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Shutdown(t.Context())
	if got, err := in.ReceiveBuffers(); err != nil || got < want {
		t.Errorf("receive queue of inherited sockets %d (%v), want at least %d", got, err, want)
	}
}

// TestHandingOnKeepsSocketsNonBlocking: os/exec calls Fd on the files it
// passes, and Fd on a net package File puts the socket (shared by every
// descriptor of it) in blocking mode: the server's own readers then
// blocked in recvmmsg during an upgrade, and the queries they held were
// lost when the process exited (1 to 12 per upgrade under dnsperf).
func TestHandingOnKeepsSocketsNonBlocking(t *testing.T) {
	// Not served: with the bug, readers would block and hold the test.
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, testHandler(t), Options{UDPSockets: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(t.Context())
	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		fd := f.Fd() // what os/exec does
		flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: blocking after Fd on the handed-on file", f.Name())
		}
		f.Close()
	}
}
