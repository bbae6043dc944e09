//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSocket serves UDP with recvmmsg/sendmmsg: one system call reads
// every query waiting (up to batchSize) and one sends every reply. The
// socket is non-blocking and waits in Go's network poller, so a reader
// that has nothing to do holds no P and no thread: the rest of the process
// (HTTP, the health engine, the GC) runs on as many CPUs as it is given,
// one included. A busy reader never waits at all, since each call returns
// what has queued up since the last.
type batchSocket struct {
	c  *net.UDPConn
	rc syscall.RawConn
	// shared is set when another process holds the socket too (systemd,
	// or the process it was handed to): at shutdown its queue is left to
	// that process instead of being drained.
	shared bool
}

const (
	batchSize = 64
	// recvBuf holds one query; anything longer is not a query we answer.
	recvBuf = 4096
)

// mmsghdr is struct mmsghdr of <sys/socket.h> on 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

func openUDP(a netip.AddrPort) (udpSocket, error) {
	network, family := "udp4", unix.AF_INET
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		// "udp6" also makes the socket IPv6-only.
		network, family = "udp6", unix.AF_INET6
	}
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); serr != nil {
				serr = fmt.Errorf("SO_REUSEPORT: %w", serr)
				return
			}
			serr = setUDPOptions(int(fd), family)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, a.String())
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", a, err)
	}
	s, err := wrapUDP(pc.(*net.UDPConn), false)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", a, err)
	}
	return s, nil
}

// wrapUDP serves a bound UDP socket; an inherited one (shared) gets the
// options a socket we bind is given before its bind.
func wrapUDP(c *net.UDPConn, shared bool) (udpSocket, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, err
	}
	if shared {
		family := unix.AF_INET
		if c.LocalAddr().(*net.UDPAddr).IP.To4() == nil {
			family = unix.AF_INET6
		}
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = setUDPOptions(int(fd), family) }); err != nil {
			serr = err
		}
		if serr != nil {
			c.Close()
			return nil, serr
		}
	}
	return &batchSocket{c: c, rc: rc, shared: shared}, nil
}

// setUDPOptions prepares a socket: ours before it is bound, an inherited
// one when it is taken over.
func setUDPOptions(fd, family int) error {
	raiseReceiveBuffer(fd)
	// Replies are never fragmented by this host and path MTU reports are
	// ignored (RFC 9715; BIND sets DF too): replies are capped at 1232
	// bytes, so they fit any sane path, and a forged "fragmentation
	// needed" cannot make us fragment them for an attacker to splice. The
	// default mode sets DF as well but may fragment after such a report,
	// and so draws an IP ID per packet from a shared generator; in probe
	// mode a reply is an atomic datagram with ID 0 (RFC 6864), which is
	// measurably cheaper.
	pmtu := [2]int{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER}
	if family == unix.AF_INET6 {
		pmtu = [2]int{unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER}
	}
	if err := unix.SetsockoptInt(fd, pmtu[0], pmtu[1], unix.IP_PMTUDISC_PROBE); err != nil {
		return fmt.Errorf("MTU_DISCOVER: %w", err)
	}
	return nil
}

// raiseReceiveBuffer makes the socket's receive queue at least
// receiveBufferBytes. SO_RCVBUFFORCE passes net.core.rmem_max, and needs
// CAP_NET_ADMIN (systemd has it when a socket unit sets ReceiveBuffer=);
// without it SO_RCVBUF gives what rmem_max allows. A queue already bigger
// (set by systemd) is left alone.
func raiseReceiveBuffer(fd int) {
	// Linux reports twice what was set (its bookkeeping overhead).
	if cur, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil && cur >= 2*receiveBufferBytes {
		return
	}
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, receiveBufferBytes) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, receiveBufferBytes)
	}
}

func (b *batchSocket) port() uint16 { return b.c.LocalAddr().(*net.UDPAddr).AddrPort().Port() }

// stop wakes serve, waiting or not, and makes it return after the batch
// in hand (and, for a socket of ours, the queue: drain).
func (b *batchSocket) stop(*Server)                { b.c.SetReadDeadline(time.Now()) }
func (b *batchSocket) close()                      { b.c.Close() }
func (b *batchSocket) file() (*os.File, error)     { return dupFile(b.rc, "udp "+b.c.LocalAddr().String()) }
func (b *batchSocket) receiveBuffer() (int, error) { return receiveBuffer(b.rc) }

// batch is one reader's buffers, allocated once: the kernel writes
// queries and client addresses into them and reads replies out of them.
type batch struct {
	in     [batchSize]mmsghdr
	inIov  [batchSize]unix.Iovec
	names  [batchSize]unix.RawSockaddrInet6 // large enough for IPv4 too
	bufs   [batchSize][recvBuf]byte
	out    [batchSize]mmsghdr
	outIov [batchSize]unix.Iovec
	resp   [batchSize][maxUDPSize + 512]byte

	// Results of the system calls made inside recv and send.
	n, sent, k int
	errno      syscall.Errno
	// recv and send are the callbacks of RawConn.Read and Write, made
	// once so that a call allocates nothing.
	recv, send func(fd uintptr) bool
	// local is the socket's address.
	local netip.AddrPort
}

func newBatch() *batch {
	bt := &batch{}
	for i := range bt.in {
		bt.inIov[i].Base = &bt.bufs[i][0]
		bt.inIov[i].SetLen(recvBuf)
		bt.in[i].hdr.Iov = &bt.inIov[i]
		bt.in[i].hdr.SetIovlen(1)
		bt.in[i].hdr.Name = (*byte)(unsafe.Pointer(&bt.names[i]))
	}
	// The calls cannot block (the socket is non-blocking), so they are
	// raw: entering and leaving the scheduler's system-call state would
	// cost more than they take. EAGAIN hands the wait to the poller.
	bt.recv = func(fd uintptr) bool {
		for i := range bt.in {
			bt.in[i].hdr.Namelen = unix.SizeofSockaddrInet6
			bt.in[i].hdr.Flags = 0
		}
		r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&bt.in[0])), batchSize, 0, 0, 0)
		bt.n, bt.errno = int(r), errno
		return errno != unix.EAGAIN
	}
	bt.send = func(fd uintptr) bool {
		for bt.sent < bt.k {
			r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&bt.out[bt.sent])), uintptr(bt.k-bt.sent), 0, 0, 0)
			switch errno {
			case 0:
				bt.sent += int(r)
			case unix.EAGAIN:
				return false // the send buffer is full: wait until it drains
			case unix.EINTR:
			default:
				// A reply the kernel refuses (the client's address is
				// unreachable, say) must not hold up the others.
				bt.sent++
			}
		}
		return true
	}
	return bt
}

func (b *batchSocket) serve(s *Server) {
	bt := newBatch()
	bt.local = b.c.LocalAddr().(*net.UDPAddr).AddrPort()
	for !s.stopping.Load() {
		bt.n, bt.errno = 0, 0
		if err := b.rc.Read(bt.recv); err != nil {
			break // stopped (the deadline is now), or closed
		}
		if bt.errno != 0 {
			// EINTR, or an ICMP error from an earlier send reported on
			// the socket: nothing to read this time.
			continue
		}
		if !b.reply(s, bt) {
			return // closed
		}
	}
	if s.stopping.Load() && !b.shared && !s.handedOff.Load() {
		b.drain(s, bt)
	}
}

// drain answers the queries still queued in a socket that nobody else
// holds, which its closing would lose, until the queue is empty or the
// server's drain deadline has passed. The reads bypass the deadline that
// stopped serve: they never wait.
func (b *batchSocket) drain(s *Server, bt *batch) {
	read := func(fd uintptr) { bt.recv(fd) }
	for time.Now().Before(s.drainUntil) {
		bt.n, bt.errno = 0, 0
		if err := b.rc.Control(read); err != nil {
			return
		}
		switch bt.errno {
		case 0:
		case unix.EAGAIN:
			return // empty: every query received is answered
		default:
			continue
		}
		if bt.n == 0 || !b.reply(s, bt) {
			return
		}
	}
}

// reply answers the bt.n queries just read and sends the replies; false
// if the socket is closed.
func (b *batchSocket) reply(s *Server, bt *batch) bool {
	bt.k = 0
	for i := 0; i < bt.n; i++ {
		if bt.in[i].hdr.Flags&unix.MSG_TRUNC != 0 {
			continue // longer than any query: not worth a reply
		}
		client, ok := sockaddrAddr(&bt.names[i], bt.in[i].hdr.Namelen)
		if !ok {
			continue
		}
		k := bt.k
		resp := s.h.Respond(bt.resp[k][:0], bt.bufs[i][:bt.in[i].len], client, false)
		// A reply that outgrew the buffer cannot be sent from it.
		if len(resp) > 0 && &resp[0] != &bt.resp[k][0] && len(resp) > len(bt.resp[k]) {
			resp = nil
		}
		if t := s.h.tap.Load(); t != nil {
			// Logged as sent: an outgrown reply as none.
			t.record(bt.bufs[i][:bt.in[i].len], resp, netip.AddrPortFrom(client, sockaddrPort(&bt.names[i])), bt.local, false)
		}
		if len(resp) == 0 {
			continue
		}
		if &resp[0] != &bt.resp[k][0] {
			copy(bt.resp[k][:], resp)
		}
		bt.outIov[k].Base = &bt.resp[k][0]
		bt.outIov[k].SetLen(len(resp))
		bt.out[k].hdr = unix.Msghdr{Name: bt.in[i].hdr.Name, Namelen: bt.in[i].hdr.Namelen, Iov: &bt.outIov[k]}
		bt.out[k].hdr.SetIovlen(1)
		bt.k++
	}
	if bt.k == 0 {
		return true
	}
	bt.sent = 0
	return b.rc.Write(bt.send) == nil
}

// sockaddrPort reads the client port the kernel wrote (network order,
// at the same place for both families).
func sockaddrPort(sa *unix.RawSockaddrInet6) uint16 {
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	return uint16(p[0])<<8 | uint16(p[1])
}

// sockaddrAddr reads the client address the kernel wrote.
func sockaddrAddr(sa *unix.RawSockaddrInet6, n uint32) (netip.Addr, bool) {
	switch sa.Family {
	case unix.AF_INET:
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(v4.Addr), true
	case unix.AF_INET6:
		return netip.AddrFrom16(sa.Addr).Unmap(), n >= unix.SizeofSockaddrInet6
	}
	return netip.Addr{}, false
}
