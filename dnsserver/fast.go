package dnsserver

import (
	"encoding/binary"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/rrl"
)

// The fast path answers the query that matters — a steered name asked
// over UDP, with or without EDNS and a client subnet — straight from the
// packet: it reads the header, question and OPT in place, looks the name
// up with one map read, and writes the reply into the caller's buffer,
// allocating nothing. Anything unusual (another opcode, a compression
// pointer in the question, an odd character in a name, a non-steered
// name, a malformed option) is left to the general path, which must and
// does produce the very same bytes for whatever both handle
// (FuzzFastPathMatches checks that).

const (
	flagQR = 0x80
	flagAA = 0x04
	flagRD = 0x01
	flagCD = 0x10
)

// fastQuery is what the fast path reads from a packet.
type fastQuery struct {
	// name is the question name in lower-case presentation form
	// ("stream.live.example.com."), built in place for the map lookup.
	name    [256]byte
	nameLen int
	// qEnd is where the question ends in the packet.
	qEnd  int
	qtype uint16
	edns  edns
}

// fast answers pkt if it can; ok is false when the general path must.
func (h *Handler) fast(buf, pkt []byte, client netip.Addr, st *State, start time.Time) (out []byte, ok bool) {
	var q fastQuery
	if !q.parse(pkt) {
		return nil, false
	}
	steered, found := st.Snap.SteeredName(q.name[:q.nameLen])
	if !found {
		return h.fastStatic(buf, pkt, client, st, start, &q)
	}
	p := steered.Policy

	var c choice
	st.choose(&c, p, client, &q.edns.ecs)
	if c.cdn < 0 {
		return nil, false
	}
	target := st.templates.targets[c.cdn]

	// With DO=1 in a signed zone the CNAME's signatures follow it, made
	// when the zone was signed: the answer is still copied bytes.
	var sigs [][]byte
	ttl := c.ttl
	if q.edns.do {
		zs, expired := h.signedZone(st, steered.Zone.Index, start)
		if expired {
			return nil, false
		}
		if zs != nil {
			if per := zs.steer[string(q.name[:q.nameLen])]; c.cdn < len(per) {
				sigs = per[c.cdn].rdata
			}
			ttl = min(ttl, p.TTL)
		}
	}

	// The reply must fit the client's buffer; the general path truncates
	// in the rare case it does not.
	size := q.qEnd + 12 + len(target) + optSize(q.edns, st) // 12: the CNAME's fixed part
	for _, s := range sigs {
		size += 12 + len(s)
	}
	if size > q.edns.udpLimit() || cap(buf) < size {
		return nil, false
	}

	out = buf[:size]
	off := writeHeader(out, pkt, &q, 1+len(sigs), 0)

	// Answer: owner is a pointer to the question name, so its case is the
	// query's own.
	out[off], out[off+1] = 0xc0, 12
	binary.BigEndian.PutUint16(out[off+2:], dns.TypeCNAME)
	binary.BigEndian.PutUint16(out[off+4:], dns.ClassINET)
	binary.BigEndian.PutUint32(out[off+6:], ttl)
	rdStart := off + 12
	rdEnd := rdStart + compressTarget(out[rdStart:], target, pkt[12:q.qEnd-4])
	binary.BigEndian.PutUint16(out[off+10:], uint16(rdEnd-rdStart))
	for _, s := range sigs {
		rdEnd = writeRRSIG(out, rdEnd, ttl, s)
	}
	out = out[:writeOPT(out, rdEnd, &q, st, c.scope)]
	h.metrics.geo[c.source].Inc()
	st.counters.queries[steered.Zone.Index][qtypeIndex(q.qtype)][0].Inc()
	st.counters.answers[p.Index][c.region][c.cdn].Inc()
	return h.fastLimit(out, client, st, start, &q)
}

// copyAddr writes the leading bytes of addr (already masked) into dst.
func copyAddr(dst []byte, addr netip.Addr) {
	if addr.Is4() {
		a := addr.As4()
		copy(dst, a[:])
		return
	}
	a := addr.As16()
	copy(dst, a[:])
}

// compressTarget writes the CNAME target into dst, ending in a pointer to
// the question name where the two share a suffix of labels spelled alike.
// The general path's encoder compresses the same way (exact, label-aligned
// suffixes), which keeps the two paths' replies identical.
func compressTarget(dst, target, qname []byte) int {
	for t := 0; target[t] != 0; t += 1 + int(target[t]) {
		tail := target[t:]
		s := len(qname) - len(tail)
		if s < 0 || !labelStart(qname, s) || string(qname[s:]) != string(tail) {
			continue
		}
		n := copy(dst, target[:t])
		dst[n], dst[n+1] = 0xc0|byte((12+s)>>8), byte(12+s)
		return n + 2
	}
	return copy(dst, target)
}

// labelStart tells whether a label begins at offset s of a wire name.
func labelStart(name []byte, s int) bool {
	for i := 0; i < len(name) && name[i] != 0; i += 1 + int(name[i]) {
		if i == s {
			return true
		}
	}
	return false
}

// parse reads the header, question and optional OPT of a plain query.
func (q *fastQuery) parse(pkt []byte) bool {
	if len(pkt) < 17 || pkt[2]&0xf8 != 0 || // QR=0, opcode QUERY
		binary.BigEndian.Uint16(pkt[4:]) != 1 || binary.BigEndian.Uint16(pkt[6:]) != 0 ||
		binary.BigEndian.Uint16(pkt[8:]) != 0 || binary.BigEndian.Uint16(pkt[10:]) > 1 {
		return false
	}
	off, n := 12, 0
	for {
		if off >= len(pkt) {
			return false
		}
		l := int(pkt[off])
		if l == 0 {
			off++
			break
		}
		if l > 63 || off+1+l > len(pkt) || n+l+1 > 254 {
			return false
		}
		for _, c := range pkt[off+1 : off+1+l] {
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				// Escapes and odd bytes: the general path spells them.
				return false
			}
			q.name[n] = c
			n++
		}
		q.name[n] = '.'
		n++
		off += 1 + l
	}
	if n == 0 || off+4 > len(pkt) {
		return false
	}
	q.nameLen = n
	q.qtype = binary.BigEndian.Uint16(pkt[off:])
	if binary.BigEndian.Uint16(pkt[off+2:]) != dns.ClassINET || !plainType(q.qtype) {
		return false
	}
	off += 4
	q.qEnd = off
	if pkt[11] == 0 {
		return off == len(pkt)
	}
	// One additional record, which must be a well-formed OPT.
	if off+11 > len(pkt) || pkt[off] != 0 || binary.BigEndian.Uint16(pkt[off+1:]) != dns.TypeOPT {
		return false
	}
	q.edns.present = true
	q.edns.udpSize = binary.BigEndian.Uint16(pkt[off+3:])
	if pkt[off+5] != 0 || pkt[off+6] != 0 { // extended rcode, version
		return false
	}
	q.edns.do = pkt[off+7]&0x80 != 0
	rdlen := int(binary.BigEndian.Uint16(pkt[off+9:]))
	if off+11+rdlen != len(pkt) {
		return false
	}
	return q.edns.onlyECS(pkt[off+11:])
}

// onlyECS reads the OPT options when they are at most one valid client
// subnet; any other option sends the query to the general path, whose
// decoder has opinions about many of them.
func (e *edns) onlyECS(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if len(b) < 4 || binary.BigEndian.Uint16(b) != optionECS || int(binary.BigEndian.Uint16(b[2:]))+4 != len(b) {
		return false
	}
	v, err := parseECS(b[4:])
	if err != nil {
		return false
	}
	e.ecs = v
	return true
}

// plainType excludes the query types the general path answers specially.
func plainType(t uint16) bool {
	switch t {
	case dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT, dns.TypeMAILA, dns.TypeMAILB:
		return false
	}
	return true
}

// fastStatic answers a static A, AAAA, TXT or CAA question from the
// answers prepared when the snapshot was installed.
func (h *Handler) fastStatic(buf, pkt []byte, client netip.Addr, st *State, start time.Time, q *fastQuery) ([]byte, bool) {
	a := st.templates.staticAnswer(q.name[:q.nameLen], q.qtype)
	if a == nil {
		return h.fastNegative(buf, pkt, client, st, start, q)
	}
	var sigs [][]byte
	if q.edns.do {
		zs, expired := h.signedZone(st, a.zone, start)
		if expired {
			return nil, false
		}
		if zs != nil {
			if sigs = zs.staticSigs(q.name[:q.nameLen], q.qtype); sigs == nil {
				return nil, false
			}
		}
	}
	size := q.qEnd + len(a.wire) + optSize(q.edns, st)
	for _, s := range sigs {
		size += 12 + len(s)
	}
	if size > q.edns.udpLimit() || cap(buf) < size {
		return nil, false
	}
	out := buf[:size]
	off := writeHeader(out, pkt, q, a.count+len(sigs), 0)
	off += copy(out[off:], a.wire)
	for _, s := range sigs {
		off = writeRRSIG(out, off, a.ttl, s)
	}
	// The answer does not depend on the client: scope 0.
	off = writeOPT(out, off, q, st, 0)
	out = out[:off]
	st.counters.queries[a.zone][qtypeIndex(q.qtype)][0].Inc()
	return h.fastLimit(out, client, st, start, q)
}

// writeHeader writes the reply header and the question echoed as asked;
// it returns where the answer section starts.
func writeHeader(out, pkt []byte, q *fastQuery, ancount, nscount int) int {
	copy(out, pkt[:2])
	out[2] = flagQR | flagAA | pkt[2]&flagRD
	out[3] = pkt[3] & flagCD
	binary.BigEndian.PutUint16(out[4:], 1)
	binary.BigEndian.PutUint16(out[6:], uint16(ancount))
	binary.BigEndian.PutUint16(out[8:], uint16(nscount))
	arcount := uint16(0)
	if q.edns.present {
		arcount = 1
	}
	binary.BigEndian.PutUint16(out[10:], arcount)
	return 12 + copy(out[12:], pkt[12:q.qEnd])
}

// writeOPT appends the reply's OPT, echoing the client subnet with scope,
// when the query had EDNS; it returns the end of the reply.
func writeOPT(out []byte, off int, q *fastQuery, st *State, scope uint8) int {
	if !q.edns.present {
		return off
	}
	out[off] = 0
	binary.BigEndian.PutUint16(out[off+1:], dns.TypeOPT)
	binary.BigEndian.PutUint16(out[off+3:], maxUDPSize)
	ttl := uint32(0)
	if q.edns.do {
		ttl = 0x8000
	}
	binary.BigEndian.PutUint32(out[off+5:], ttl)
	rdlen := 0
	if e := q.edns.ecs; e.present && st.Snap.Geo.ECS {
		n := (int(e.source) + 7) / 8
		binary.BigEndian.PutUint16(out[off+11:], optionECS)
		binary.BigEndian.PutUint16(out[off+13:], uint16(4+n))
		binary.BigEndian.PutUint16(out[off+15:], e.family)
		out[off+17] = e.source
		out[off+18] = scope
		copyAddr(out[off+19:off+19+n], e.addr)
		rdlen = 8 + n
	}
	binary.BigEndian.PutUint16(out[off+9:], uint16(rdlen))
	return off + 11 + rdlen
}

// fastNegative answers NXDOMAIN for a name that does not exist, from the
// zone's prepared authority section. The general path compresses the SOA's
// names against the question; the prepared bytes were packed after a
// question that is just the origin, so they hold only when the question
// ends in the origin spelled in lower case (its pointers then move by the
// extra labels' length) and none of the extra labels' suffixes is also a
// suffix of the SOA's names (which the general path would point at).
func (h *Handler) fastNegative(buf, pkt []byte, client netip.Addr, st *State, start time.Time, q *fastQuery) ([]byte, bool) {
	name := q.name[:q.nameLen]
	z := st.Snap.ZoneOf(name)
	if z == nil {
		return nil, false
	}
	t := st.templates.negative[z.Index]
	if t == nil || !z.Absent(name) {
		return nil, false
	}
	if q.edns.do {
		zs, expired := h.signedZone(st, z.Index, start)
		if expired {
			return nil, false
		}
		if zs != nil {
			// Signed: the proof for a name right below the apex, or
			// below names that do not exist either, was packed with
			// the signatures; the wildcard's NSEC is the apex's.
			if t = zs.nxTemplate(z, name); t == nil {
				return nil, false
			}
		}
	}
	qwire := pkt[12 : q.qEnd-4]
	extra := len(qwire) - len(t.originWire)
	if extra <= 0 || string(qwire[extra:]) != string(t.originWire) || !labelStart(qwire, extra) {
		return nil, false
	}
	for k := 0; k < extra; k += 1 + int(qwire[k]) {
		for _, nm := range t.names {
			if s := len(nm) - len(qwire[k:]); s >= 0 && labelStart(nm, s) && string(nm[s:]) == string(qwire[k:]) {
				return nil, false
			}
		}
	}
	size := q.qEnd + len(t.wire) + optSize(q.edns, st)
	if size > q.edns.udpLimit() || cap(buf) < size {
		return nil, false
	}
	out := buf[:size]
	off := writeHeader(out, pkt, q, 0, t.count)
	out[3] |= dns.RcodeNameError
	auth := out[off : off+len(t.wire)]
	copy(auth, t.wire)
	for _, p := range t.pointers {
		v := binary.BigEndian.Uint16(auth[p:])&0x3fff + uint16(extra)
		binary.BigEndian.PutUint16(auth[p:], 0xc000|v)
	}
	out = out[:writeOPT(out, off+len(t.wire), q, st, 0)]
	st.counters.queries[z.Index][qtypeIndex(q.qtype)][rcodeIndex(dns.RcodeNameError)].Inc()
	if st.RRL == nil {
		return out, true
	}
	return applyRRL(out, st.RRL.Decide(client, rrl.ClassNXDomain, t.origin, q.qtype, st.RRL.At(start))), true
}

// applyRRL turns a rate limiter's decision into what is sent: nothing, a
// truncated reply that sends the client to TCP, or the reply.
func applyRRL(out []byte, a rrl.Action) []byte {
	switch a {
	case rrl.Drop:
		return nil
	case rrl.Slip:
		return rrl.Truncate(out)
	}
	return out
}

// fastLimit applies response rate limiting to a fast-path answer.
func (h *Handler) fastLimit(out []byte, client netip.Addr, st *State, start time.Time, q *fastQuery) ([]byte, bool) {
	if st.RRL == nil {
		return out, true
	}
	return applyRRL(out, st.RRL.Decide(client, rrl.ClassAnswer, q.name[:q.nameLen], q.qtype, st.RRL.At(start))), true
}

// optSize is the length of the OPT record a reply to e carries.
func optSize(e edns, st *State) int {
	if !e.present {
		return 0
	}
	if e.ecs.present && st.Snap.Geo.ECS {
		return 11 + 8 + (int(e.ecs.source)+7)/8
	}
	return 11
}

// writeRRSIG writes an RRSIG record owned by the question name with the
// given TTL and prepared data at off; it returns where the record ends.
func writeRRSIG(out []byte, off int, ttl uint32, rdata []byte) int {
	out[off], out[off+1] = 0xc0, 12
	binary.BigEndian.PutUint16(out[off+2:], dns.TypeRRSIG)
	binary.BigEndian.PutUint16(out[off+4:], dns.ClassINET)
	binary.BigEndian.PutUint32(out[off+6:], ttl)
	binary.BigEndian.PutUint16(out[off+10:], uint16(len(rdata)))
	return off + 12 + copy(out[off+12:], rdata)
}
