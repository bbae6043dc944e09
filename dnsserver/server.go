package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Options tune the listeners. Zero values take the defaults.
type Options struct {
	// UDPSockets is how many SO_REUSEPORT sockets serve each UDP address,
	// each read by its own goroutine; the kernel spreads queries over them.
	UDPSockets int
	// TCPIdleTimeout closes a TCP connection that sends nothing for this
	// long (RFC 7766 §6.2.3 asks servers to reclaim idle connections).
	TCPIdleTimeout time.Duration
	// MaxTCPConns bounds open TCP connections; more are closed at once.
	MaxTCPConns int
	// MaxTCPPerClient bounds the TCP connections of one client network
	// (tcplimit.go); more are closed at once.
	MaxTCPPerClient int
	// Inherited are sockets opened by someone else, systemd (socket
	// activation) or the process that handed its sockets over on an
	// upgrade: a bound UDP socket and a listening TCP socket for each
	// address they serve. They are used for the configured addresses
	// they are bound to instead of binding those again (a configured
	// port 0 takes theirs); one that no configured address takes fails
	// Listen. Listen owns them, whatever it returns.
	Inherited []*os.File
	// minIdleToEvict replaces the constant of that name when set, so that
	// a test need not wait for a connection to be evictable.
	minIdleToEvict time.Duration
}

// drainFor bounds how long a shutdown goes on answering what is queued
// in UDP sockets of its own (ones shared with another process are left
// to it): the queue is read without waiting, so it ends sooner unless
// queries keep arriving faster than they are answered.
const drainFor = 50 * time.Millisecond

// stopWriteTimeout replaces tcpWriteTimeout once the server is stopping.
const stopWriteTimeout = 50 * time.Millisecond

// Defaults for Options.
const (
	DefaultTCPIdleTimeout = 10 * time.Second
	DefaultMaxTCPConns    = 1024
)

// Server owns the UDP and TCP sockets of every configured address.
type Server struct {
	h    *Handler
	opts Options

	udp   []udpSocket
	tcp   []*net.TCPListener
	addrs []netip.AddrPort

	wg        sync.WaitGroup
	mu        sync.Mutex // guards conns; never taken on the query path
	conns     map[net.Conn]*tcpConn
	perClient map[netip.Addr]int // open connections by clientNet, guarded by mu
	stopping  atomic.Bool
	tcpSlots  chan struct{}

	inherited   []*inheritedSocket // Options.Inherited, while Listen runs
	fromOutside int                // addresses served from inherited sockets
	// handedOff is set once the sockets went to another process
	// (Files): the UDP queues are then its to read.
	handedOff atomic.Bool
	// drainUntil ends the drain of our own UDP queues; written before
	// stopping is set.
	drainUntil time.Time
}

// Listen binds UDP and TCP on every address. A port of 0 picks a free
// port, the same one for UDP and TCP. Either everything binds or nothing
// stays bound.
func Listen(addrs []netip.AddrPort, h *Handler, opts Options) (*Server, error) {
	if opts.UDPSockets <= 0 {
		opts.UDPSockets = runtime.GOMAXPROCS(0)
	}
	if opts.TCPIdleTimeout <= 0 {
		opts.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if opts.MaxTCPConns <= 0 {
		opts.MaxTCPConns = DefaultMaxTCPConns
	}
	if opts.minIdleToEvict <= 0 {
		opts.minIdleToEvict = minIdleToEvict
	}
	s := &Server{h: h, opts: opts, conns: map[net.Conn]*tcpConn{}, tcpSlots: make(chan struct{}, opts.MaxTCPConns)}
	var err error
	if s.inherited, err = classify(opts.Inherited); err != nil {
		closeFiles(opts.Inherited)
		return nil, err
	}
	defer closeFiles(opts.Inherited) // ours are duplicates
	for _, a := range addrs {
		_, took, err := s.takeInherited(a)
		if err == nil && !took {
			err = s.bind(a)
		}
		if err != nil {
			s.closeAll()
			return nil, err
		}
	}
	for _, in := range s.inherited {
		if !in.used {
			s.closeAll()
			proto := "TCP"
			if in.udp {
				proto = "UDP"
			}
			return nil, fmt.Errorf("inherited %s socket %s is for no address of server.dns %v", proto, in.addr, addrs)
		}
	}
	s.inherited = nil
	return s, nil
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

func (s *Server) bind(a netip.AddrPort) error {
	// The TCP listener is bound without SO_REUSEPORT, and first when the
	// port is given: a second server started on the same address then
	// fails at once instead of quietly taking half of the UDP queries
	// (the UDP sockets share the port on purpose, between our readers).
	var lc net.ListenConfig
	if a.Port() != 0 {
		l, err := lc.Listen(context.Background(), "tcp", a.String())
		if err != nil {
			return err
		}
		return s.bindUDP(a, l.(*net.TCPListener))
	}
	var lastErr error
	// With port 0 the UDP port is picked first; TCP may find it taken, so
	// try a few times.
	for attempt := 0; attempt < 20; attempt++ {
		first, err := openUDP(a)
		if err != nil {
			return err
		}
		bound := netip.AddrPortFrom(a.Addr(), first.port())
		l, err := lc.Listen(context.Background(), "tcp", bound.String())
		first.close()
		if err != nil {
			lastErr = err
			continue
		}
		if err := s.bindUDP(bound, l.(*net.TCPListener)); err != nil {
			lastErr = err
			continue
		}
		return nil
	}
	return lastErr
}

// bindUDP opens the UDP sockets of an address whose TCP listener is l.
func (s *Server) bindUDP(bound netip.AddrPort, l *net.TCPListener) error {
	var socks []udpSocket
	for i := 0; i < s.opts.UDPSockets; i++ {
		sock, err := openUDP(bound)
		if err != nil {
			for _, c := range socks {
				c.close()
			}
			l.Close()
			if i > 0 {
				err = fmt.Errorf("socket %d of %d: %w", i+1, s.opts.UDPSockets, err)
			}
			return err
		}
		socks = append(socks, sock)
	}
	s.udp = append(s.udp, socks...)
	s.tcp = append(s.tcp, l)
	s.addrs = append(s.addrs, bound)
	return nil
}

func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// Addrs returns the bound addresses, with the ports actually chosen.
func (s *Server) Addrs() []netip.AddrPort { return s.addrs }

// Serve starts answering on every socket and returns at once.
func (s *Server) Serve() {
	for _, c := range s.udp {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve(s)
		}()
	}
	for _, l := range s.tcp {
		s.wg.Add(1)
		go s.acceptTCP(l)
	}
}

// Shutdown stops reading queries and answers the ones already read: the
// UDP batches in hand, the TCP messages received whole. What is still
// queued in a UDP socket is answered too when the socket is the
// process's own (bounded by drainFor); a socket shared with another
// process (handed in, or handed on by Files) keeps its queue for that
// process to answer. It returns when every goroutine has finished or ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.drainUntil = time.Now().Add(drainFor)
	s.stopping.Store(true)
	for _, l := range s.tcp {
		l.Close()
	}
	for _, c := range s.udp {
		c.stop(s)
	}
	s.mu.Lock()
	for c := range s.conns {
		c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.closeAll()
		return nil
	case <-ctx.Done():
		s.closeAll()
		return ctx.Err()
	}
}

func (s *Server) closeAll() {
	for _, c := range s.udp {
		c.close()
	}
	for _, l := range s.tcp {
		l.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
}

// udpSocket is one UDP socket of an address and the loop that serves it.
// Linux gets a batched reader (udp_linux.go); elsewhere the net package's.
type udpSocket interface {
	port() uint16
	// serve answers queries until the server stops.
	serve(s *Server)
	// stop makes serve return (Shutdown says when).
	stop(s *Server)
	close()
	// file is a duplicate of the socket's descriptor, to hand on.
	file() (*os.File, error)
	// receiveBuffer is the socket's receive queue in bytes.
	receiveBuffer() (int, error)
}
