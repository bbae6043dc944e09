package rrl

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/internal/dnswire"
)

// Truncate turns a packed response into its slip form, in place: the
// header with TC set, the question, the OPT record if the response had
// one, and nothing else. TC tells a genuine client to ask again over TCP.
// The OPT stays because a reply to a query with an OPT must carry one
// (RFC 6891 §7: without it the client takes the server for one without
// EDNS); it holds no more than the query's own OPT did (our buffer size,
// the DO bit, the client subnet echoed), so the slip is still no bigger
// than the query that caused it and amplifies nothing.
//
// It returns resp cut to the new length. A response too short for a
// header comes back empty (send nothing); one whose question cannot be
// parsed keeps only its header, with no question.
func Truncate(resp []byte) []byte {
	const headerLen = 12
	if len(resp) < headerLen {
		return resp[:0]
	}
	qd := binary.BigEndian.Uint16(resp[4:])
	end := headerLen
	kept := uint16(0)
	for ; kept < qd; kept++ {
		next, ok := skipQuestion(resp, end)
		if !ok {
			break
		}
		end = next
	}
	var opt []byte
	if kept == qd {
		opt = findOPT(resp, end)
	}
	resp[2] |= 0x02 // TC
	binary.BigEndian.PutUint16(resp[4:], kept)
	clear(resp[6:headerLen]) // ANCOUNT, NSCOUNT, ARCOUNT
	if opt != nil {
		// The OPT lies after the question: moving it down overwrites
		// only what is being cut.
		end += copy(resp[end:], opt)
		resp[11] = 1
	}
	return resp[:end]
}

// findOPT returns the OPT record of the response whose records start at
// off, or nil when it has none or its records cannot be parsed.
func findOPT(msg []byte, off int) []byte {
	skip := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:]))
	ar := int(binary.BigEndian.Uint16(msg[10:]))
	for i := 0; i < skip+ar; i++ {
		start := off
		next, ok := dnswire.SkipName(msg, off)
		if !ok || next+10 > len(msg) {
			return nil
		}
		end := next + 10 + int(binary.BigEndian.Uint16(msg[next+8:]))
		if end > len(msg) {
			return nil
		}
		// The OPT is owned by the root: one zero byte.
		if i >= skip && next == start+1 && msg[start] == 0 && binary.BigEndian.Uint16(msg[next:]) == dns.TypeOPT {
			return msg[start:end]
		}
		off = end
	}
	return nil
}

// skipQuestion returns the offset just past the question at off: its
// name, type and class.
func skipQuestion(msg []byte, off int) (int, bool) {
	off, ok := dnswire.SkipName(msg, off)
	if !ok || off+4 > len(msg) {
		return 0, false
	}
	return off + 4, true
}
