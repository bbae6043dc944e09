package dnsserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
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
		select {
		case s.tcpSlots <- struct{}{}:
		default:
			// At the connection limit: shed this one, keep the others.
			c.Close()
			continue
		}
		s.mu.Lock()
		if s.stopping.Load() {
			s.mu.Unlock()
			c.Close()
			<-s.tcpSlots
			continue
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveTCP(c)
	}
}

// serveTCP answers DNS messages on one connection, in order, until the
// client closes it, stays idle too long, or sends something unusable.
// Several queries on one connection (RFC 7766 pipelining) are read and
// answered one after the other.
func (s *Server) serveTCP(c net.Conn) {
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
		if _, err := io.ReadFull(r, lenBuf[:]); err != nil {
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
