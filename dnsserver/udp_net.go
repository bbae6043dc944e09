//go:build !(linux && (amd64 || arm64))

package dnsserver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// netSocket serves UDP through the net package, one packet at a time.
type netSocket struct{ c *net.UDPConn }

func openUDP(a netip.AddrPort) (udpSocket, error) {
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), "udp", a.String())
	if err != nil {
		return nil, err
	}
	return &netSocket{c: pc.(*net.UDPConn)}, nil
}

func (n *netSocket) port() uint16 { return n.c.LocalAddr().(*net.UDPAddr).AddrPort().Port() }
func (n *netSocket) close()       { n.c.Close() }
func (n *netSocket) drain()       { n.c.SetReadDeadline(time.Now().Add(quietPeriod)) }

func (n *netSocket) serve(s *Server) {
	buf := make([]byte, maxMessageSize)
	out := make([]byte, 0, maxMessageSize)
	for {
		size, from, err := n.c.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ICMP errors from earlier sends surface here
		}
		if s.stopping.Load() {
			n.drain()
		}
		if resp := s.h.Respond(out, buf[:size], from.Addr(), false); resp != nil {
			n.c.WriteToUDPAddrPort(resp, from)
		}
	}
}
