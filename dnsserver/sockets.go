package dnsserver

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Sockets that outlive the process: taken from systemd (socket
// activation) or from the process that handed them over on an upgrade,
// and handed on the same way. While no process reads a UDP socket, the
// queries sent to it wait in its receive queue rather than being lost,
// so a restart or an upgrade loses none if the queue is big enough.

// receiveBufferBytes is the UDP receive queue asked for. On loopback a
// queued query takes about 830 bytes of it (measured), so the 16 MiB the
// kernel then grants holds about 20,000 queries: 10 s of a restart at
// 2,000 queries/s.
const receiveBufferBytes = 8 << 20

// inheritedSocket is one socket handed in, before it is served.
type inheritedSocket struct {
	f    *os.File
	addr netip.AddrPort
	udp  bool
	used bool
}

// classify reads what each handed-in file is: a bound UDP socket or a
// listening TCP socket of an IP address, nothing else.
func classify(files []*os.File) ([]*inheritedSocket, error) {
	var out []*inheritedSocket
	for _, f := range files {
		// Not f.Fd(), which may put the socket in blocking mode (see
		// dupFile).
		var typ, fd int
		var sa unix.Sockaddr
		var err error
		rc, cerr := f.SyscallConn()
		if cerr == nil {
			cerr = rc.Control(func(d uintptr) {
				fd = int(d)
				if typ, err = unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
					sa, err = unix.Getsockname(fd)
				}
			})
		}
		if cerr != nil {
			return nil, fmt.Errorf("inherited %s: %w", f.Name(), cerr)
		}
		if err != nil {
			return nil, fmt.Errorf("inherited fd %d (%s): not a socket: %w", fd, f.Name(), err)
		}
		var addr netip.AddrPort
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			addr = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
		case *unix.SockaddrInet6:
			addr = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
		default:
			return nil, fmt.Errorf("inherited fd %d (%s): not an IPv4 or IPv6 socket", fd, f.Name())
		}
		switch typ {
		case unix.SOCK_DGRAM:
			out = append(out, &inheritedSocket{f: f, addr: addr, udp: true})
		case unix.SOCK_STREAM:
			var on int
			rc.Control(func(d uintptr) { on, err = unix.GetsockoptInt(int(d), unix.SOL_SOCKET, unix.SO_ACCEPTCONN) })
			if err != nil || on == 0 {
				return nil, fmt.Errorf("inherited fd %d (%s): TCP socket %s is not listening", fd, f.Name(), addr)
			}
			out = append(out, &inheritedSocket{f: f, addr: addr})
		default:
			return nil, fmt.Errorf("inherited fd %d (%s): socket type %d, want UDP or TCP", fd, f.Name(), typ)
		}
	}
	return out, nil
}

// matches says whether a handed-in socket is for the configured address
// a; port 0 (any port) takes the inherited socket's port.
func (in *inheritedSocket) matches(a netip.AddrPort) bool {
	return !in.used && in.addr.Addr() == a.Addr().Unmap() && (a.Port() == 0 || in.addr.Port() == a.Port())
}

// takeInherited serves the handed-in sockets of address a: its UDP
// sockets (each read by its own goroutine; when there are fewer than
// Options.UDPSockets, more readers share them through duplicates of their
// descriptors, so that all of them read the one queue the next process
// will read on) and its TCP listener. It returns the address with its
// port, and false if no handed-in socket is for a.
func (s *Server) takeInherited(a netip.AddrPort) (netip.AddrPort, bool, error) {
	var udp []*inheritedSocket
	var tcp *inheritedSocket
	for _, in := range s.inherited {
		if !in.matches(a) {
			continue
		}
		if a.Port() == 0 {
			a = in.addr // the other protocol must be on the same port
		}
		in.used = true
		if in.udp {
			udp = append(udp, in)
		} else if tcp == nil {
			tcp = in
		} else {
			return a, false, fmt.Errorf("two inherited TCP listeners for %s", a)
		}
	}
	if udp == nil && tcp == nil {
		return a, false, nil
	}
	if udp == nil || tcp == nil {
		return a, false, fmt.Errorf("inherited sockets for %s: want UDP and TCP, got %d UDP and %d TCP", a, len(udp), btoi(tcp != nil))
	}
	l, err := net.FileListener(tcp.f)
	if err != nil {
		return a, false, fmt.Errorf("inherited TCP listener %s: %w", a, err)
	}
	tcp.f.Close()
	var socks []udpSocket
	fail := func(err error) (netip.AddrPort, bool, error) {
		for _, c := range socks {
			c.close()
		}
		l.Close()
		return a, false, err
	}
	for i := 0; i < max(len(udp), s.opts.UDPSockets); i++ {
		f := udp[i%len(udp)].f
		pc, err := net.FilePacketConn(f) // a duplicate of f's descriptor
		if err != nil {
			return fail(fmt.Errorf("inherited UDP socket %s: %w", a, err))
		}
		sock, err := wrapUDP(pc.(*net.UDPConn), true)
		if err != nil {
			return fail(fmt.Errorf("inherited UDP socket %s: %w", a, err))
		}
		socks = append(socks, sock)
	}
	for _, in := range udp {
		in.f.Close()
	}
	s.udp = append(s.udp, socks...)
	s.tcp = append(s.tcp, l.(*net.TCPListener))
	s.addrs = append(s.addrs, a)
	s.fromOutside++
	return a, true, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Inherited is how many of the addresses serve sockets handed in
// (Options.Inherited) rather than bound by this process.
func (s *Server) Inherited() int { return s.fromOutside }

// Files hands the server's sockets on: duplicates of every UDP socket's
// and TCP listener's descriptor, for another process (an upgrade) to
// serve from. From then on a Shutdown leaves the UDP queues to that
// process instead of draining them.
func (s *Server) Files() ([]*os.File, error) {
	var out []*os.File
	fail := func(err error) ([]*os.File, error) {
		for _, f := range out {
			f.Close()
		}
		return nil, err
	}
	for _, c := range s.udp {
		f, err := c.file()
		if err != nil {
			return fail(err)
		}
		out = append(out, f)
	}
	for _, l := range s.tcp {
		rc, err := l.SyscallConn()
		if err != nil {
			return fail(err)
		}
		f, err := dupFile(rc, "tcp "+l.Addr().String())
		if err != nil {
			return fail(err)
		}
		out = append(out, f)
	}
	s.handedOff.Store(true)
	return out, nil
}

// dupFile duplicates a socket's descriptor as a file. Not the net
// package's File methods: Fd on what they return (os/exec calls it on
// ExtraFiles) puts the socket in blocking mode, and that flag belongs to
// the socket, not the descriptor, so this process's readers would then
// block in recvmmsg until 64 queries had come, with queries in hand.
func dupFile(rc syscall.RawConn, name string) (*os.File, error) {
	var nfd int
	var derr error
	if err := rc.Control(func(fd uintptr) { nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	return os.NewFile(uintptr(nfd), name), nil
}

// HandOffCancelled undoes Files when the process the sockets were for
// did not take them: a Shutdown drains the UDP queues again.
func (s *Server) HandOffCancelled() { s.handedOff.Store(false) }

// ReceiveBuffers returns the smallest UDP receive queue of the server's
// sockets, in bytes as the kernel reports it.
func (s *Server) ReceiveBuffers() (int, error) {
	least := 0
	for _, c := range s.udp {
		n, err := c.receiveBuffer()
		if err != nil {
			return 0, err
		}
		if least == 0 || n < least {
			least = n
		}
	}
	return least, nil
}

// WantReceiveBuffer is the receive queue (as the kernel reports it) the
// server asks for; a smaller one means net.core.rmem_max held it back.
const WantReceiveBuffer = 2 * receiveBufferBytes

func receiveBuffer(rc syscall.RawConn) (int, error) {
	var n int
	var serr error
	if err := rc.Control(func(fd uintptr) { n, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil {
		return 0, err
	}
	return n, serr
}
