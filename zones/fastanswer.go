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
