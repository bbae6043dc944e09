package dnsserver

import (
	"net"
	"net/netip"
	"time"
)

// DefaultMaxTCPPerClient is how many TCP connections one client network
// may hold. An authoritative server's TCP clients are resolvers, which
// open a few connections at a time to retry truncated answers or to
// pipeline; 16 leaves them room while it takes 64 networks to fill the
// 1024 slots, so that a single host can no longer hold them all
// (RFC 7766 §6.2.2 lets a server limit the connections of a client
// address or subnet; RFC 9210 §4.1 asks for such a limit).
const DefaultMaxTCPPerClient = 16

// clientNet is the network counted as one client: the IPv4 address, or
// the /64 of an IPv6 one, since a single host commonly gets a whole /64
// and could otherwise open connections from as many addresses as it
// likes.
func clientNet(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is4() {
		return a
	}
	p, _ := a.Prefix(64)
	return p.Addr()
}

func (s *Server) maxTCPPerClient() int {
	if s.opts.MaxTCPPerClient > 0 {
		return s.opts.MaxTCPPerClient
	}
	return DefaultMaxTCPPerClient
}

// admitClient counts a new connection of client, or refuses it when the
// client already holds its share. Refused connections are closed before
// they can take a slot or evict anyone's connection.
func (s *Server) admitClient(client netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perClient == nil {
		s.perClient = map[netip.Addr]int{}
	}
	if s.perClient[client] >= s.maxTCPPerClient() {
		return false
	}
	s.perClient[client]++
	return true
}

// leaveClient uncounts a connection of client; s.mu must be held.
func (s *Server) leaveClient(client netip.Addr) {
	if s.perClient[client] <= 1 {
		delete(s.perClient, client)
		return
	}
	s.perClient[client]--
}

// minIdleToEvict is how long a connection must have waited for a query
// before any new client may take its slot: long enough that a pipelining
// client between two writes, or one whose first query is on its way, is
// not cut off. Options.minIdleToEvict overrides it for tests.
const minIdleToEvict = time.Second

// takeSlot reserves a connection slot for a new connection of client.
// When all are taken it evicts a waiting connection and takes over its
// slot (RFC 7766 §6.2.3: a server under pressure should reclaim idle
// connections rather than refuse new ones). It never waits: the accept
// loop must keep up with a client that opens connections as fast as
// they are closed, or others queue behind it.
func (s *Server) takeSlot(client netip.Addr) bool {
	select {
	case s.tcpSlots <- struct{}{}:
		return true
	default:
	}
	return s.evictOne(client)
}

// Why a waiting connection may be evicted, weakest reason first.
const (
	notEvictable = iota
	// Idle for less than minIdleToEvict, but its client holds more
	// connections than the newcomer's: under pressure the slots are
	// shared out evenly among clients, so that many addresses opening
	// connections as fast as they are closed cannot keep out a client
	// with few.
	overShare
	// Idle for minIdleToEvict or more.
	longIdle
	// Stopped inside a message: queries fit one segment, so a client
	// that sent a length and not the message is broken or stalling on
	// purpose, and yields first, however recently it stopped.
	stalled
)

// evictOne closes the waiting connection with the strongest reason to
// go, the one waiting longest among equals (overShare: of the client
// holding most), and hands its slot to the caller. Connections reading a
// whole message or answering are never evicted.
func (s *Server) evictOne(newcomer netip.Addr) bool {
	limit := time.Now().Add(-s.opts.minIdleToEvict).UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	share := s.perClient[newcomer]
	var victim net.Conn
	best, bestHeld, bestSince := notEvictable, 0, int64(0)
	for c, tc := range s.conns {
		reason, held, since := notEvictable, s.perClient[tc.client], tc.stalledSince.Load()
		switch {
		case since != 0:
			reason = stalled
		case tc.idleSince.Load() == 0:
			continue
		case tc.idleSince.Load() <= limit:
			reason, since = longIdle, tc.idleSince.Load()
		case held > share:
			reason, since = overShare, tc.idleSince.Load()
		default:
			continue
		}
		if reason < best {
			continue
		}
		if reason == best {
			if reason == overShare && held != bestHeld {
				if held < bestHeld {
					continue
				}
			} else if since >= bestSince {
				continue
			}
		}
		victim, best, bestHeld, bestSince = c, reason, held, since
	}
	if victim == nil {
		return false
	}
	tc := s.conns[victim]
	tc.evicted = true
	delete(s.conns, victim)
	s.leaveClient(tc.client)
	victim.Close()
	return true
}
