package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"time"
)

// tcpWriteTimeout bounds how long a client that does not read its
// answers can hold a connection's goroutine.
const tcpWriteTimeout = 5 * time.Second

func (s *Server) acceptTCP(l *net.TCPListener) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if s.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off briefly
			// rather than spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		tc := &tcpConn{client: clientNet(c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr())}
		if !s.admitClient(tc.client) {
			c.Close()
			continue
		}
		if !s.takeSlot(tc.client) {
			// At the connection limit and nobody to evict: shed this
			// one, keep the others.
			s.mu.Lock()
			s.leaveClient(tc.client)
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.mu.Lock()
		if s.stopping.Load() {
			s.leaveClient(tc.client)
			s.mu.Unlock()
			c.Close()
			<-s.tcpSlots
			continue
		}
		// Waiting for its first query, and evictable as such even
		// before its goroutine runs.
		tc.idleSince.Store(time.Now().UnixNano())
		s.conns[c] = tc
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveTCP(c, tc)
	}
}

// serveTCP answers DNS messages on one connection, in order, until the
// client closes it, stays idle too long, or sends something unusable.
// Several queries on one connection (RFC 7766 pipelining) are read and
// answered one after the other.
func (s *Server) serveTCP(c net.Conn, tc *tcpConn) {
	defer func() {
		s.mu.Lock()
		evicted := tc.evicted
		if !evicted {
			delete(s.conns, c)
			s.leaveClient(tc.client)
		}
		s.mu.Unlock()
		c.Close()
		if !evicted {
			<-s.tcpSlots
		}
		s.wg.Done()
	}()
	peer := c.RemoteAddr().(*net.TCPAddr).AddrPort()
	client := peer.Addr()
	local := c.LocalAddr().(*net.TCPAddr).AddrPort()
	r := bufio.NewReaderSize(c, 4096)
	msg := make([]byte, 0, 512)
	out := make([]byte, 2, 4096)
	var lenBuf [2]byte
	for !s.stopping.Load() {
		c.SetReadDeadline(time.Now().Add(s.idleTimeout()))
		if r.Buffered() == 0 {
			tc.idleSince.Store(time.Now().UnixNano())
		}
		_, err := io.ReadFull(r, lenBuf[:])
		tc.idleSince.Store(0)
		if err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n < 12 {
			return
		}
		if cap(msg) < n {
			msg = make([]byte, 0, n)
		}
		msg = msg[:n]
		stalled := r.Buffered() < n
		if stalled {
			// The client has sent the length but not the whole message:
			// it gets a short while for the rest, counted from now and
			// not renewed by each byte, and may be evicted meanwhile
			// (RFC 7766 §6.2.3), so that stalling inside a message holds
			// a slot no longer than idling does.
			now := time.Now()
			c.SetReadDeadline(now.Add(tcpMessageTimeout))
			tc.stalledSince.Store(now.UnixNano())
		}
		_, err = io.ReadFull(r, msg)
		if stalled {
			tc.stalledSince.Store(0)
		}
		if err != nil {
			return
		}
		resp := s.h.Respond(out[2:2], msg, client, true)
		s.h.tapped(msg, resp, peer, local, true)
		if resp == nil {
			continue
		}
		if len(resp) > 0 && &resp[0] != &out[2:3][0] {
			// The reply outgrew the buffer; keep the bigger one.
			out = append(make([]byte, 2, 2+len(resp)), resp...)
		} else {
			out = out[:2+len(resp)]
		}
		binary.BigEndian.PutUint16(out, uint16(len(resp)))
		wt := tcpWriteTimeout
		if s.stopping.Load() {
			wt = stopWriteTimeout // a client that does not read holds up the exit
		}
		c.SetWriteDeadline(time.Now().Add(wt))
		if _, err := c.Write(out); err != nil {
			return
		}
		out = out[:2]
	}
}

// idleTimeout is how long a connection may wait for its next query. While
// more than half the connection slots are taken it shrinks with the free
// slots, to a tenth at the limit, so that idle clients cannot hold the
// server's TCP capacity against clients with queries (RFC 7766 §6.2.3
// lets a server under pressure close idle connections sooner).
func (s *Server) idleTimeout() time.Duration {
	full, limit := s.opts.TCPIdleTimeout, cap(s.tcpSlots)
	used := len(s.tcpSlots)
	if used*2 <= limit {
		return full
	}
	return max(full*time.Duration(2*(limit-used))/time.Duration(limit), full/10)
}

// tcpMessageTimeout is how long a client has to send the rest of a
// message once its length has arrived. A message of at most 64 KiB takes
// a few round trips; a client slower than this is stalling.
const tcpMessageTimeout = 2 * time.Second

// tcpConn is what the server knows of one connection's activity.
type tcpConn struct {
	// idleSince is when the connection began waiting for its next query
	// with nothing buffered (unix nanoseconds), 0 while it has work.
	idleSince atomic.Int64
	// stalledSince is when the length of a message arrived without the
	// whole message (unix nanoseconds), 0 otherwise.
	stalledSince atomic.Int64
	client       netip.Addr // clientNet of the peer
	// evicted is set, under s.mu, when the connection's slot and its
	// place in the client's count went to a new connection.
	evicted bool
}
