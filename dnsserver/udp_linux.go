//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"fmt"
	"net/netip"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSocket serves UDP with recvmmsg/sendmmsg on a blocking socket: one
// system call reads every query waiting (up to batchSize) and one sends
// every reply. Waiting happens in the kernel rather than in Go's network
// poller, which measured cheaper per query; the socket's receive timeout
// wakes the reader now and then so that it notices a shutdown, and the
// process keeps a spare P (see Listen), so TCP, the health engine and the
// GC keep running while readers wait.
type batchSocket struct {
	fd int
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
	family := unix.AF_INET
	if a.Addr().Is6() && !a.Addr().Is4In6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("listen udp %s: %w", a, err)
	}
	fail := func(what string, err error) (udpSocket, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("listen udp %s: %s: %w", a, what, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		return fail("SO_REUSEPORT", err)
	}
	// A bigger receive queue absorbs bursts (kick-off) instead of
	// dropping them; the kernel caps it at net.core.rmem_max.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
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
		return fail("MTU_DISCOVER", err)
	}
	tv := unix.NsecToTimeval(quietPeriod.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return fail("SO_RCVTIMEO", err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1); err != nil {
			return fail("IPV6_V6ONLY", err)
		}
		sa = &unix.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().Unmap().As4()}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	return &batchSocket{fd: fd}, nil
}

func (b *batchSocket) port() uint16 {
	sa, err := unix.Getsockname(b.fd)
	if err != nil {
		return 0
	}
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return uint16(sa.Port)
	case *unix.SockaddrInet6:
		return uint16(sa.Port)
	}
	return 0
}

// drain needs nothing: serve stops at its next quiet period once the
// server is stopping.
func (b *batchSocket) drain() {}
func (b *batchSocket) close() { unix.Close(b.fd) }

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
	return bt
}

func (b *batchSocket) serve(s *Server) {
	bt := newBatch()
	for {
		for i := range bt.in {
			bt.in[i].hdr.Namelen = unix.SizeofSockaddrInet6
			bt.in[i].hdr.Flags = 0
		}
		// RawSyscall: the reader keeps its P while it waits in the
		// kernel. Through entersyscall the runtime's monitor would take
		// the P back after 20µs of every wait and wake to do so again and
		// again, which costs more than the queries. Listen leaves a spare
		// P for everything else, the receive timeout bounds the wait, and
		// a preemption signal interrupts it (EINTR) when the GC needs the
		// P.
		r, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(b.fd), uintptr(unsafe.Pointer(&bt.in[0])), batchSize, unix.MSG_WAITFORONE, 0, 0)
		n := int(r)
		switch {
		case errno == unix.EAGAIN || errno == unix.EINTR:
			// Quiet for a while (EAGAIN), or a signal (EINTR) — most
			// likely the runtime asking this goroutine to stop for the
			// GC. The raw system call is no place to be preempted, and
			// this path calls nothing that would check, so yield here.
			if s.stopping.Load() {
				return
			}
			runtime.Gosched()
			continue
		case errno != 0:
			if s.stopping.Load() || errno == unix.EBADF {
				return
			}
			continue
		}
		k := 0
		for i := 0; i < n; i++ {
			if bt.in[i].hdr.Flags&unix.MSG_TRUNC != 0 {
				continue // longer than any query: not worth a reply
			}
			client, ok := sockaddrAddr(&bt.names[i], bt.in[i].hdr.Namelen)
			if !ok {
				continue
			}
			resp := s.h.Respond(bt.resp[k][:0], bt.bufs[i][:bt.in[i].len], client, false)
			if len(resp) == 0 {
				continue
			}
			if &resp[0] != &bt.resp[k][0] {
				// A reply that outgrew the buffer cannot be sent from it.
				if len(resp) > len(bt.resp[k]) {
					continue
				}
				copy(bt.resp[k][:], resp)
			}
			bt.outIov[k].Base = &bt.resp[k][0]
			bt.outIov[k].SetLen(len(resp))
			bt.out[k].hdr = unix.Msghdr{Name: bt.in[i].hdr.Name, Namelen: bt.in[i].hdr.Namelen, Iov: &bt.outIov[k]}
			bt.out[k].hdr.SetIovlen(1)
			k++
		}
		for sent := 0; sent < k; {
			r, _, errno := unix.RawSyscall6(unix.SYS_SENDMMSG, uintptr(b.fd), uintptr(unsafe.Pointer(&bt.out[sent])), uintptr(k-sent), 0, 0, 0)
			if errno == unix.EINTR {
				continue
			}
			if errno != 0 {
				// A reply the kernel refuses (the client's address is
				// unreachable, say) must not hold up the others.
				sent++
				continue
			}
			sent += int(r)
		}
	}
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
