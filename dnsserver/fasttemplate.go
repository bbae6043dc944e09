package dnsserver

import (
	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

// templates are the fast path's answers packed ahead of the queries, for
// one snapshot. They are built when the snapshot is installed, so a query
// copies bytes instead of packing records, and reads them without locks.
type templates struct {
	// static holds the prepared answers by name (lower case, fully
	// qualified).
	static map[string][]*staticAnswer
	// negative holds each zone's NXDOMAIN authority section by zone
	// index; nil where the general path must answer.
	negative []*negativeTemplate
	// targets holds each CDN's target in uncompressed wire form, by CDN
	// index.
	targets [][]byte
	// sig is the signed zones' signatures, nil when no zone is signed;
	// replaced on its own when they are renewed (dnssec.go).
	sig *signatures
}

// staticAnswer is an answer section in wire form, every owner a pointer to
// the question name (offset 12), and its record count. Only types whose
// data holds no domain names are prepared, so the bytes do not depend on
// compression and match what the general path writes.
type staticAnswer struct {
	zone  int // the zone's index, for the counters
	qtype uint16
	count int
	ttl   uint32 // the RRset's, for its signatures
	wire  []byte
}

// negativeTemplate is a zone's NXDOMAIN authority section: the SOA record
// as the general path packs it after a question that is exactly the
// zone's origin in lower case. For a longer question the records keep
// their bytes and every compression pointer moves by the length of the
// extra labels; pointers lists where they are in wire.
type negativeTemplate struct {
	wire     []byte
	pointers []int
	// originWire is the origin in wire form; names are the SOA's other
	// names (MNAME, RNAME) in wire form, for the fast path to tell when a
	// question would compress them differently.
	originWire []byte
	names      [][]byte
	// origin is the origin's presentation form as bytes, the rate
	// limiter's account name for the zone's NXDOMAINs.
	origin []byte
	// count is the number of records in wire.
	count int
}

// staticTypes are the prepared types: no names in their data, nothing for
// the additional section.
var staticTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeCAA}

// newTemplates packs the fast path's answers for snap.
func newTemplates(snap *zones.Snapshot) *templates {
	t := &templates{static: map[string][]*staticAnswer{}}
	buf := make([]byte, dns.MaxMsgSize)
	for _, z := range snap.Zones {
		// On error the template stays nil: the general path answers.
		neg, _ := packNegative(z)
		t.negative = append(t.negative, neg)
		for _, n := range z.Nodes() {
			if !answersPlainly(z, n) {
				continue
			}
			for _, qtype := range staticTypes {
				if a := packStatic(z, n, qtype, buf); a != nil {
					t.static[n.Name] = append(t.static[n.Name], a)
				}
			}
		}
	}
	for _, c := range snap.CDNs {
		// The policy accepted the target, so it packs.
		w, _ := packName(c.Target)
		t.targets = append(t.targets, w)
	}
	return t
}

// staticAnswer returns the prepared answer for a lower-case, fully
// qualified name and a type, or nil. It takes bytes so that the query path
// need not build a string.
func (t *templates) staticAnswer(name []byte, qtype uint16) *staticAnswer {
	for _, a := range t.static[string(name)] {
		if a.qtype == qtype {
			return a
		}
	}
	return nil
}

// answersPlainly tells whether the records at n are the whole answer: n is
// not at or below a zone cut, has no CNAME and is not steered.
func answersPlainly(z *zones.Zone, n *zones.Node) bool {
	_, cut := z.Find(n.Name)
	return cut == nil && n.Set(dns.TypeCNAME) == nil && n.Steer == nil
}

// packStatic packs n's records of type qtype, or returns nil when it has
// none or one does not pack. buf is scratch space.
func packStatic(z *zones.Zone, n *zones.Node, qtype uint16, buf []byte) *staticAnswer {
	set := n.Set(qtype)
	if set == nil {
		return nil
	}
	a := &staticAnswer{zone: z.Index, qtype: qtype, count: len(set), ttl: set[0].Header().Ttl}
	for _, rr := range set {
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			return nil
		}
		hdr := rr.Header()
		// The owner was packed uncompressed: skip its labels and the
		// fixed header to reach the data.
		off := 0
		for buf[off] != 0 {
			off += 1 + int(buf[off])
		}
		rdata := buf[off+11 : end]
		a.wire = append(a.wire, 0xc0, 12, byte(qtype>>8), byte(qtype), byte(hdr.Class>>8), byte(hdr.Class),
			byte(hdr.Ttl>>24), byte(hdr.Ttl>>16), byte(hdr.Ttl>>8), byte(hdr.Ttl),
			byte(len(rdata)>>8), byte(len(rdata)))
		a.wire = append(a.wire, rdata...)
	}
	return a
}

// packNegative packs z's NXDOMAIN authority section the way the general
// path does, and notes where its compression pointers are.
func packNegative(z *zones.Zone) (*negativeTemplate, error) {
	return packAuthority(z, []dns.RR{z.NegSOA})
}

// packAuthority packs an NXDOMAIN authority section of z holding rrs
// (the SOA, and with DO=1 its signatures and the NSEC proof) the way the
// general path packs it after a question that is the origin, and notes
// where its compression pointers are and which names it holds.
func packAuthority(z *zones.Zone, rrs []dns.RR) (*negativeTemplate, error) {
	m := new(dns.Msg)
	m.SetQuestion(z.Origin, dns.TypeA)
	m.Response, m.Authoritative, m.Rcode, m.Compress = true, true, dns.RcodeNameError, true
	m.Ns = rrs
	pkt, err := m.Pack()
	if err != nil {
		return nil, err
	}
	origin, err := packName(z.Origin)
	if err != nil {
		return nil, err
	}
	t := &negativeTemplate{originWire: origin, wire: pkt[12+len(origin)+4:], origin: []byte(z.Origin), count: len(rrs)}
	off := 0
	name := func() {
		for {
			if t.wire[off]&0xc0 == 0xc0 {
				t.pointers = append(t.pointers, off)
				off += 2
				return
			}
			if t.wire[off] == 0 {
				off++
				return
			}
			off += 1 + int(t.wire[off])
		}
	}
	var names []string
	for _, rr := range rrs {
		name()
		rdStart := off + 10
		off = rdStart
		rdEnd := rdStart + (int(t.wire[rdStart-2])<<8 | int(t.wire[rdStart-1]))
		switch rr := rr.(type) {
		case *dns.SOA:
			name()
			name()
			names = append(names, rr.Ns, rr.Mbox)
		case *dns.RRSIG:
			off += 18
			name()
			names = append(names, rr.SignerName)
		case *dns.NSEC:
			name()
			names = append(names, rr.Hdr.Name, rr.NextDomain)
		}
		off = rdEnd
	}
	for _, nm := range names {
		w, err := packName(nm)
		if err != nil {
			return nil, err
		}
		t.names = append(t.names, w)
	}
	return t, nil
}

// packName is a domain name in uncompressed wire form.
func packName(name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	return buf[:n], err
}
