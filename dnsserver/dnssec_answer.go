package dnsserver

import (
	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

// deny adds the signed proof of a negative answer for name when the
// query has DO=1 and the zone is signed; the SOA is already in place.
func (q *query) deny(resp *dns.Msg, name string, nx bool) {
	if q.zs == nil {
		return
	}
	resp.Ns = q.zs.denial(resp.Ns, name, nx)
}

// addSigs appends the RRSIGs of the RRset (name, t) that was just put in
// the answer with owner and ttl, when the query has DO=1.
func (q *query) addSigs(resp *dns.Msg, name string, t uint16, owner string, ttl uint32) {
	if q.zs == nil {
		return
	}
	resp.Answer = append(resp.Answer, q.zs.sigsFor(name, t, owner, ttl)...)
}

// signedSet is an RRset that signing adds to a name: the key sets at the
// apex, and the NSEC record of a name in the chain.
func (q *query) signedSet(z *zones.Zone, node *zones.Node, t uint16) []dns.RR {
	zs := q.st.templates.sig.zone(z.Index)
	if zs == nil || zs.keys == nil {
		return nil
	}
	switch t {
	case dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY:
		if node.Name == z.Origin {
			return zs.keys[t]
		}
	case dns.TypeNSEC:
		if i, ok := zs.index[node.Name]; ok {
			return []dns.RR{zs.nsec[i]}
		}
	}
	return nil
}

// withOwnerTTL is withOwner for records whose TTL the answer sets.
func withOwnerTTL(rrs []dns.RR, owner string, ttl uint32) []dns.RR {
	if len(rrs) == 0 || rrs[0].Header().Name == owner && rrs[0].Header().Ttl == ttl {
		return rrs
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = owner
		out[i].Header().Ttl = ttl
	}
	return out
}
