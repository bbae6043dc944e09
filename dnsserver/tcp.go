package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
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
		if !s.takeSlot() {
			// At the connection limit and nobody idle: shed this one,
			// keep the others.
			c.Close()
			continue
		}
		tc := &tcpConn{}
		s.mu.Lock()
		if s.stopping.Load() {
			s.mu.Unlock()
			c.Close()
			<-s.tcpSlots
			continue
		}
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
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
		<-s.tcpSlots
		s.wg.Done()
	}()
	client := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
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
		if _, err := io.ReadFull(r, msg); err != nil {
			return
		}
		resp := s.h.Respond(out[2:2], msg, client, true)
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
		c.SetWriteDeadline(time.Now().Add(tcpWriteTimeout))
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

// tcpConn is what the server knows of one connection's activity.
type tcpConn struct {
	// idleSince is when the connection began waiting for its next query
	// with nothing buffered (unix nanoseconds), 0 while it has work.
	idleSince atomic.Int64
}

// minIdleToEvict is how long a connection must have waited for a query
// before a new client may take its slot: long enough that a pipelining
// client between two writes is never cut off.
var minIdleToEvict = time.Second

// takeSlot reserves a connection slot. When all are taken it closes the
// connection that has been idle longest, if one has been idle a while,
// and waits briefly for its slot (RFC 7766 §6.2.3: a server under
// pressure should reclaim idle connections rather than refuse new ones).
func (s *Server) takeSlot() bool {
	select {
	case s.tcpSlots <- struct{}{}:
		return true
	default:
	}
	if !s.closeIdlest() {
		return false
	}
	select {
	case s.tcpSlots <- struct{}{}:
		return true
	case <-time.After(100 * time.Millisecond):
		return false
	}
}

// closeIdlest closes the connection idle longest, if any has been idle
// for minIdleToEvict; its goroutine then frees its slot.
func (s *Server) closeIdlest() bool {
	limit := time.Now().Add(-minIdleToEvict).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	var idlest net.Conn
	oldest := limit
	for c, tc := range s.conns {
		if since := tc.idleSince.Load(); since != 0 && since <= oldest {
			idlest, oldest = c, since
		}
	}
	if idlest == nil {
		return false
	}
	// Not a candidate again while its goroutine winds down.
	s.conns[idlest].idleSince.Store(0)
	idlest.Close()
	return true
}
