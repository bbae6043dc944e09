//go:build !(linux && (amd64 || arm64))

package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// netSocket serves UDP through the net package, one packet at a time.
type netSocket struct {
	c      *net.UDPConn
	shared bool // see batchSocket
}

func openUDP(a netip.AddrPort) (udpSocket, error) {
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		if err := reusePort(network, address, c); err != nil {
			return err
		}
		return c.Control(func(fd uintptr) { raiseReceiveBuffer(int(fd)) })
	}}
	pc, err := lc.ListenPacket(context.Background(), "udp", a.String())
	if err != nil {
		return nil, err
	}
	return &netSocket{c: pc.(*net.UDPConn)}, nil
}

func wrapUDP(c *net.UDPConn, shared bool) (udpSocket, error) {
	if rc, err := c.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { raiseReceiveBuffer(int(fd)) })
	}
	return &netSocket{c: c, shared: shared}, nil
}

func raiseReceiveBuffer(fd int) {
	if cur, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil && cur >= receiveBufferBytes {
		return
	}
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, receiveBufferBytes)
}

func (n *netSocket) port() uint16 { return n.c.LocalAddr().(*net.UDPAddr).AddrPort().Port() }
func (n *netSocket) close()       { n.c.Close() }
func (n *netSocket) file() (*os.File, error) {
	rc, err := n.c.SyscallConn()
	if err != nil {
		return nil, err
	}
	return dupFile(rc, "udp "+n.c.LocalAddr().String())
}
func (n *netSocket) receiveBuffer() (int, error) {
	rc, err := n.c.SyscallConn()
	if err != nil {
		return 0, err
	}
	return receiveBuffer(rc)
}

// stop ends serve at once on a shared socket; on one of ours serve reads
// on until the server's drain deadline (this reader cannot tell an empty
// queue without waiting).
func (n *netSocket) stop(s *Server) {
	if n.shared || s.handedOff.Load() {
		n.c.SetReadDeadline(time.Now())
		return
	}
	n.c.SetReadDeadline(s.drainUntil)
}

func (n *netSocket) serve(s *Server) {
	buf := make([]byte, maxMessageSize)
	out := make([]byte, 0, maxMessageSize)
	local := n.c.LocalAddr().(*net.UDPAddr).AddrPort()
	for {
		size, from, err := n.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors from earlier sends surface here
		}
		resp := s.h.Respond(out, buf[:size], from.Addr(), false)
		s.h.tapped(buf[:size], resp, from, local, false)
		if resp != nil {
			n.c.WriteToUDPAddrPort(resp, from)
		}
	}
}
