package zones

import (
	"github.com/miekg/dns"
)

// StaticAnswer is a static answer prepared for the query fast path: the
// answer section in wire form, every owner a pointer to the question name
// (offset 12), and its record count. Only types whose data holds no domain
// names are prepared, so the bytes do not depend on compression and match
// what the general path writes.
type StaticAnswer struct {
	Zone  *Zone
	Type  uint16
	Count int
	Wire  []byte
}

// staticTypes are the prepared types: no names in their data, nothing for
// the additional section.
var staticTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCAA}

// StaticAnswerFor returns the prepared answer for a lower-case, fully
// qualified name and a type, or nil. It takes bytes so that the query path
// need not build a string.
func (s *Snapshot) StaticAnswerFor(name []byte, qtype uint16) *StaticAnswer {
	for _, a := range s.static[string(name)] {
		if a.Type == qtype {
			return a
		}
	}
	return nil
}

// prepareStatic fills s.static from every zone's nodes that answer plainly:
// not at or below a zone cut, no CNAME.
func (s *Snapshot) prepareStatic() {
	s.static = map[string][]*StaticAnswer{}
	buf := make([]byte, dns.MaxMsgSize)
	for _, z := range s.Zones {
		// On error Negative stays nil: the general path answers.
		_ = z.prepareNegative()
		for name, n := range z.nodes {
			if _, cut := z.Find(name); cut != nil || n.Set(dns.TypeCNAME) != nil || n.Steer != nil {
				continue
			}
			for _, t := range staticTypes {
				set := n.Set(t)
				if set == nil {
					continue
				}
				a := &StaticAnswer{Zone: z, Type: t, Count: len(set)}
				ok := true
				for _, rr := range set {
					end, err := dns.PackRR(rr, buf, 0, nil, false)
					if err != nil {
						ok = false
						break
					}
					hdr := rr.Header()
					// The owner was packed uncompressed: skip its labels
					// and the fixed header to reach the data.
					off := 0
					for buf[off] != 0 {
						off += 1 + int(buf[off])
					}
					rdata := buf[off+11 : end]
					a.Wire = append(a.Wire, 0xc0, 12, byte(t>>8), byte(t), byte(hdr.Class>>8), byte(hdr.Class),
						byte(hdr.Ttl>>24), byte(hdr.Ttl>>16), byte(hdr.Ttl>>8), byte(hdr.Ttl),
						byte(len(rdata)>>8), byte(len(rdata)))
					a.Wire = append(a.Wire, rdata...)
				}
				if ok {
					s.static[name] = append(s.static[name], a)
				}
			}
		}
	}
}

// NegativeTemplate is a zone's NXDOMAIN authority section prepared for the
// fast path: the SOA record as the general path packs it after a question
// that is exactly the zone's origin in lower case. For a longer question
// the records keep their bytes and every compression pointer moves by the
// length of the extra labels; Pointers lists where they are in Wire.
type NegativeTemplate struct {
	Wire     []byte
	Pointers []int
	// OriginWire is the origin in wire form; Names are the SOA's other
	// names (MNAME, RNAME) in wire form, for the fast path to tell when a
	// question would compress them differently.
	OriginWire []byte
	Names      [][]byte
	// Origin is the origin's presentation form as bytes, the rate
	// limiter's account name for the zone's NXDOMAINs.
	Origin []byte
}

func (z *Zone) prepareNegative() error {
	m := new(dns.Msg)
	m.SetQuestion(z.Origin, dns.TypeA)
	m.Response, m.Authoritative, m.Rcode, m.Compress = true, true, dns.RcodeNameError, true
	m.Ns = []dns.RR{z.NegSOA}
	pkt, err := m.Pack()
	if err != nil {
		return err
	}
	origin, err := wireName(z.Origin)
	if err != nil {
		return err
	}
	t := &NegativeTemplate{OriginWire: origin, Wire: pkt[12+len(origin)+4:], Origin: []byte(z.Origin)}
	// Walk the SOA: owner, fixed header, MNAME, RNAME, five counters.
	off := 0
	name := func() {
		for {
			if t.Wire[off]&0xc0 == 0xc0 {
				t.Pointers = append(t.Pointers, off)
				off += 2
				return
			}
			if t.Wire[off] == 0 {
				off++
				return
			}
			off += 1 + int(t.Wire[off])
		}
	}
	name()
	off += 10
	name()
	name()
	for _, nm := range []string{z.NegSOA.Ns, z.NegSOA.Mbox} {
		w, err := wireName(nm)
		if err != nil {
			return err
		}
		t.Names = append(t.Names, w)
	}
	z.Negative = t
	return nil
}

// Absent tells whether a lower-case, fully qualified name inside z does
// not exist and is not at or below a zone cut: the answer is NXDOMAIN. It
// takes bytes so that the query path need not build a string.
func (z *Zone) Absent(name []byte) bool {
	if z.nodes[string(name)] != nil {
		return false
	}
	for off := 0; len(name)-off > len(z.Origin); {
		if n := z.nodes[string(name[off:])]; n != nil && n.Delegation {
			return false
		}
		off = nextLabel(name, off)
	}
	return true
}

// ZoneOf returns the zone with the longest origin that contains a
// lower-case, fully qualified name, without building a string. Suffixes
// longer than every origin are skipped unhashed: a flood of long random
// names costs one map lookup per label of the origins' depth, not per
// label of the name.
func (s *Snapshot) ZoneOf(name []byte) *Zone {
	for off := 0; off < len(name); {
		if len(name)-off <= s.longestOrigin {
			if z := s.byOrigin[string(name[off:])]; z != nil {
				return z
			}
		}
		off = nextLabel(name, off)
	}
	return s.byOrigin["."]
}

// nextLabel returns where the label after the one at off begins in a
// name in presentation form. An escaped dot (x\.live) is part of its
// label, not the end of it.
func nextLabel(name []byte, off int) int {
	for off < len(name) && name[off] != '.' {
		if name[off] == '\\' {
			off++
		}
		off++
	}
	return off + 1
}

// wireName is a domain name in uncompressed wire form.
func wireName(name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	return buf[:n], err
}
