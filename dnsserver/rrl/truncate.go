package rrl

import "encoding/binary"

// Truncate turns a packed response into its slip form, in place: the
// header with TC set, the question, and nothing else. The slip is no
// bigger than the query that caused it, so it amplifies nothing, while
// TC tells a genuine client to ask again over TCP. The OPT record goes
// too: a client that sees TC retries over TCP, where EDNS does not
// matter for size.
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
	resp[2] |= 0x02 // TC
	binary.BigEndian.PutUint16(resp[4:], kept)
	clear(resp[6:headerLen]) // ANCOUNT, NSCOUNT, ARCOUNT
	return resp[:end]
}

// skipQuestion returns the offset just past the question at off: its
// name, type and class.
func skipQuestion(msg []byte, off int) (int, bool) {
	off, ok := skipName(msg, off)
	if !ok || off+4 > len(msg) {
		return 0, false
	}
	return off + 4, true
}

// skipName returns the offset just past the name at off: labels ending
// in the root label or in a compression pointer.
func skipName(msg []byte, off int) (int, bool) {
	for off < len(msg) {
		c := int(msg[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				return off + 1, true
			}
			off += 1 + c
		case 0xC0:
			return off + 2, true
		default: // reserved label types: not a name we can skip
			return 0, false
		}
	}
	return 0, false
}
