package dnsserver

import (
	"encoding/binary"
	"net/netip"
)

// The dnstap message (dnstap.proto of github.com/dnstap/dnstap.pb),
// written field by field: the message is small and only ever written, so
// a few append calls replace generated code and a dependency.
//
//	Dnstap  { identity=1 bytes; version=2 bytes; message=14 Message; type=15 enum (MESSAGE=1) }
//	Message { type=1 enum; socket_family=2 enum (INET=1, INET6=2); socket_protocol=3 enum (UDP=1, TCP=2);
//	          query_address=4 bytes; response_address=5 bytes; query_port=6 uint32; response_port=7 uint32;
//	          query_time_sec=8 uint64; query_time_nsec=9 fixed32; query_message=10 bytes;
//	          response_time_sec=12 uint64; response_time_nsec=13 fixed32; response_message=14 bytes }
const (
	dtIdentity = 1
	dtVersion  = 2
	dtMessage  = 14
	dtType     = 15
	dtTypeMsg  = 1

	mType          = 1
	mFamily        = 2
	mProtocol      = 3
	mQueryAddr     = 4
	mResponseAddr  = 5
	mQueryPort     = 6
	mResponsePort  = 7
	mQueryTimeSec  = 8
	mQueryTimeNsec = 9
	mQueryMessage  = 10
	mRespTimeSec   = 12
	mRespTimeNsec  = 13
	mRespMessage   = 14

	authQuery    = 1 // Message.Type AUTH_QUERY
	authResponse = 2 // Message.Type AUTH_RESPONSE

	wireVarint  = 0
	wireFixed32 = 5
	wireBytes   = 2
)

func pbTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

func pbVarint(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(pbTag(b, field, wireVarint), v)
}

func pbBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(pbTag(b, field, wireBytes), uint64(len(v)))
	return append(b, v...)
}

func pbFixed32(b []byte, field int, v uint32) []byte {
	return binary.LittleEndian.AppendUint32(pbTag(b, field, wireFixed32), v)
}

// appendTapMessage appends the Dnstap frame payload of one sampled query
// (kind authQuery) or its reply (authResponse) to b. The inner Message is
// built in scratch first, so that its length is known when it is copied
// behind its tag; both buffers are returned for reuse.
func appendTapMessage(b []byte, identity, version []byte, s *tapSlot, kind int, scratch []byte) ([]byte, []byte) {
	m := scratch[:0]
	m = pbVarint(m, mType, uint64(kind))
	client, server := s.client.Addr().Unmap(), s.server.Addr().Unmap()
	family := uint64(1)
	if client.Is6() {
		family = 2
	}
	m = pbVarint(m, mFamily, family)
	proto := uint64(1)
	if s.tcp {
		proto = 2
	}
	m = pbVarint(m, mProtocol, proto)
	m = pbAddr(m, mQueryAddr, client)
	m = pbAddr(m, mResponseAddr, server)
	m = pbVarint(m, mQueryPort, uint64(s.client.Port()))
	m = pbVarint(m, mResponsePort, uint64(s.server.Port()))
	sec, nsec := uint64(s.when/1e9), uint32(s.when%1e9)
	m = pbVarint(m, mQueryTimeSec, sec)
	m = pbFixed32(m, mQueryTimeNsec, nsec)
	m = pbBytes(m, mQueryMessage, s.buf[:s.qlen])
	if kind == authResponse {
		m = pbVarint(m, mRespTimeSec, sec)
		m = pbFixed32(m, mRespTimeNsec, nsec)
		m = pbBytes(m, mRespMessage, s.buf[s.qlen:s.qlen+s.rlen])
	}
	if len(identity) > 0 {
		b = pbBytes(b, dtIdentity, identity)
	}
	if len(version) > 0 {
		b = pbBytes(b, dtVersion, version)
	}
	b = pbBytes(b, dtMessage, m)
	b = pbVarint(b, dtType, dtTypeMsg)
	return b, m
}

// pbAddr writes an address as dnstap wants it: 4 bytes for IPv4, 16 for
// IPv6, without allocating.
func pbAddr(b []byte, field int, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return pbBytes(b, field, v[:])
	}
	v := a.As16()
	return pbBytes(b, field, v[:])
}
