package dnsserver

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/internal/dnswire"
)

// edns is what a query's OPT record asks for. It is read from the raw
// packet because RFC 7871's checks need the option's exact bytes, which
// the library's decoded form does not keep.
type edns struct {
	present bool
	udpSize uint16
	version uint8
	do      bool
	ecs     ecs
}

// udpLimit is the largest UDP reply the client takes: its buffer size,
// at least 512 and at most 1232, or 512 without EDNS.
func (e edns) udpLimit() int {
	if !e.present {
		return minUDPSize
	}
	return max(minUDPSize, min(int(e.udpSize), maxUDPSize))
}

// ecs is a validated EDNS Client Subnet option (RFC 7871).
type ecs struct {
	present bool
	family  uint16
	source  uint8
	// addr is the client subnet's address, masked to source bits.
	addr netip.Addr
}

var (
	errMalformed = errors.New("malformed message")
	errBadECS    = errors.New("malformed client subnet option")
)

const optionECS = 8

// parseEDNS walks pkt to its additional section and reads the OPT. It
// runs before the library decodes the packet, so that a reply to a query
// with an OPT carries one whatever else is wrong with the query (RFC 6891
// §7): on error, e still says what the OPT asked when one was read. Bytes
// after the last record make the packet malformed.
func parseEDNS(pkt []byte) (edns, error) {
	var e edns
	if len(pkt) < 12 {
		return e, errMalformed
	}
	qd := int(binary.BigEndian.Uint16(pkt[4:]))
	rest := int(binary.BigEndian.Uint16(pkt[6:])) + int(binary.BigEndian.Uint16(pkt[8:]))
	ar := int(binary.BigEndian.Uint16(pkt[10:]))
	off := 12
	var err error
	var ok bool
	for i := 0; i < qd; i++ {
		if off, ok = dnswire.SkipName(pkt, off); !ok {
			return e, errMalformed
		}
		// The library accepts a question cut short of its type and
		// class; the wire format does not.
		if off += 4; off > len(pkt) {
			return e, errMalformed
		}
	}
	for i := 0; i < rest; i++ {
		if off, err = skipRR(pkt, off); err != nil {
			return e, err
		}
	}
	for i := 0; i < ar; i++ {
		start := off
		if off, ok = dnswire.SkipName(pkt, off); !ok {
			return e, errMalformed
		}
		if off+10 > len(pkt) {
			return e, errMalformed
		}
		typ := binary.BigEndian.Uint16(pkt[off:])
		rdlen := int(binary.BigEndian.Uint16(pkt[off+8:]))
		if off+10+rdlen > len(pkt) {
			return e, errMalformed
		}
		if typ == dns.TypeOPT {
			// RFC 6891 §6.1.1: one OPT, owned by the root.
			if e.present || off != start+1 || pkt[start] != 0 {
				return e, errMalformed
			}
			e.present = true
			e.udpSize = binary.BigEndian.Uint16(pkt[off+2:])
			e.version = pkt[off+5]
			e.do = pkt[off+6]&0x80 != 0
			// The options of a version we do not speak are in a format
			// we do not know: the answer is BADVERS whatever they hold
			// (RFC 6891 §6.1.3).
			if e.version == 0 {
				if err := e.options(pkt[off+10 : off+10+rdlen]); err != nil {
					return e, err
				}
			}
		}
		off += 10 + rdlen
	}
	if off != len(pkt) {
		return e, errMalformed
	}
	return e, nil
}

func (e *edns) options(b []byte) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return errMalformed
		}
		code := binary.BigEndian.Uint16(b)
		n := int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return errMalformed
		}
		if code == optionECS {
			if e.ecs.present {
				return errBadECS
			}
			v, err := parseECS(b[4 : 4+n])
			if err != nil {
				return err
			}
			e.ecs = v
		}
		b = b[4+n:]
	}
	return nil
}

// parseECS applies RFC 7871 §6: a known family, a source prefix that fits
// it, exactly as many address octets as the prefix needs, no address bits
// set past it. Anything else is FORMERR, to tell the sender to fix it.
func parseECS(b []byte) (ecs, error) {
	if len(b) < 4 {
		return ecs{}, errBadECS
	}
	v := ecs{present: true, family: binary.BigEndian.Uint16(b), source: b[2]}
	addr := b[4:]
	var max int
	switch v.family {
	case 0:
		// Some clients (dig +subnet=0) send family 0 with a /0 source:
		// "no subnet, and say so in the reply". Accept exactly that.
		if v.source != 0 || len(addr) != 0 {
			return ecs{}, errBadECS
		}
		return v, nil
	case 1:
		max = 32
	case 2:
		max = 128
	default:
		return ecs{}, errBadECS
	}
	// A query's scope should be 0; one longer than the family allows is
	// malformed.
	if int(v.source) > max || int(b[3]) > max || len(addr) != (int(v.source)+7)/8 {
		return ecs{}, errBadECS
	}
	if rem := v.source % 8; rem != 0 && addr[len(addr)-1]&(0xff>>rem) != 0 {
		return ecs{}, errBadECS
	}
	if v.family == 1 {
		var a [4]byte
		copy(a[:], addr)
		v.addr = netip.AddrFrom4(a)
	} else {
		var a [16]byte
		copy(a[:], addr)
		v.addr = netip.AddrFrom16(a)
	}
	return v, nil
}

// ecsFromPrefix is the option of a query for the client subnet p.
func ecsFromPrefix(p netip.Prefix) ecs {
	family := uint16(2)
	if p.Addr().Is4() {
		family = 1
	}
	return ecs{present: true, family: family, source: uint8(p.Bits()), addr: p.Addr()}
}

func skipRR(pkt []byte, off int) (int, error) {
	off, ok := dnswire.SkipName(pkt, off)
	if !ok {
		return 0, errMalformed
	}
	if off+10 > len(pkt) {
		return 0, errMalformed
	}
	end := off + 10 + int(binary.BigEndian.Uint16(pkt[off+8:]))
	if end > len(pkt) {
		return 0, errMalformed
	}
	return end, nil
}
