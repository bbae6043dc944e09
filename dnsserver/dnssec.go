package dnsserver

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

// A signed zone's answers are signed when a snapshot is installed, when a
// key's timing says the keys change, and when a new validity period
// starts — never per query. The set of possible answers is known: a
// steered name has one CNAME RRset per CDN, a static name its records,
// and every denial is one or two NSEC records of the chain built here.

// signatures are every signed zone's signatures for one period.
type signatures struct {
	zones []*zoneSigs // by zone index; nil where the zone is not signed
	// next is when to sign again: the next period or key event.
	next time.Time
}

// zoneSigs is one zone's signed material.
type zoneSigs struct {
	z *zones.Zone
	// until is when these signatures expire (Unix seconds): from then on
	// DO=1 answers are withheld (SERVFAIL) rather than sent with
	// signatures that validators reject. 0 when nothing could sign.
	until int64
	// keys are the apex key sets (DNSKEY, CDS, CDNSKEY), by type.
	keys map[uint16][]dns.RR
	// sigs holds the RRSIGs of each RRset, by owner and type, with the
	// RRset's TTL.
	sigs map[setKey][]dns.RR
	// negSOA is the SOA's RRSIGs with the TTL of negative answers.
	negSOA []dns.RR
	// steer holds, per steered name, the RRSIGs of its CNAME to each CDN
	// (by CDN index): the records for the general path and their data in
	// wire form for the fast path.
	steer map[string][]steerSigs
	// nsec is the chain in canonical order; index finds a name in it.
	nsec  []*dns.NSEC
	index map[string]int
	// static holds the data of the RRSIGs of each name's RRsets, for the
	// fast path's static answers.
	static map[string][]typedSigs
	// nx holds, by the index of the NSEC covering the name, the fast
	// path's NXDOMAIN authority section for a name whose closest
	// encloser is the apex.
	nx []*negativeTemplate
	// expiry is when each signing key's signatures expire, for the
	// metric.
	expiry []keyExpiry
}

type setKey struct {
	name string
	t    uint16
}

type steerSigs struct {
	rrs   []dns.RR
	rdata [][]byte
}

type typedSigs struct {
	t     uint16
	rdata [][]byte
}

type keyExpiry struct {
	key string
	at  time.Time
}

// zone returns the signatures of zone index i, or nil.
func (s *signatures) zone(i int) *zoneSigs {
	if s == nil || i >= len(s.zones) {
		return nil
	}
	return s.zones[i]
}

// signAll signs every signed zone of snap for the period holding now.
func signAll(snap *zones.Snapshot, now time.Time) (*signatures, error) {
	s := &signatures{zones: make([]*zoneSigs, len(snap.Zones))}
	for i, z := range snap.Zones {
		if z.DNSSEC == nil {
			continue
		}
		zs, next, err := signZone(z, now)
		if err != nil {
			return nil, fmt.Errorf("sign zone %s: %w", z.Origin, err)
		}
		s.zones[i] = zs
		if s.next.IsZero() || next.Before(s.next) {
			s.next = next
		}
	}
	return s, nil
}

// signer signs RRsets with a set of keys for one window.
type signer struct {
	origin               string
	inception, expiraton uint32
	err                  error
}

func (sg *signer) sign(keys []*zones.Key, rrset []dns.RR, ttl uint32) []dns.RR {
	var out []dns.RR
	for _, k := range keys {
		sig := &dns.RRSIG{Algorithm: k.DNSKEY.Algorithm, KeyTag: k.DNSKEY.KeyTag(), SignerName: sg.origin,
			Inception: sg.inception, Expiration: sg.expiraton}
		if err := sig.Sign(k.Signer, rrset); err != nil && sg.err == nil {
			sg.err = fmt.Errorf("%s %s with %s: %w", rrset[0].Header().Name, dns.TypeToString[rrset[0].Header().Rrtype], k.Name(), err)
		}
		sig.Hdr.Ttl = ttl
		out = append(out, sig)
	}
	return out
}

func signZone(z *zones.Zone, now time.Time) (zs *zoneSigs, next time.Time, err error) {
	d := z.DNSSEC
	inception, expiration, refresh := d.Window(now)
	next = refresh
	if ev := d.NextEvent(now); !ev.IsZero() && ev.Before(next) {
		next = ev
	}
	ksk, zsk := d.Signers(now)
	if len(ksk) == 0 {
		// Nothing may sign: answers with DO=1 are withheld.
		return &zoneSigs{z: z}, next, nil
	}
	sg := &signer{origin: z.Origin, inception: uint32(inception.Unix()), expiraton: uint32(expiration.Unix())}
	zs = &zoneSigs{z: z, until: expiration.Unix(), keys: map[uint16][]dns.RR{}, sigs: map[setKey][]dns.RR{}, steer: map[string][]steerSigs{},
		index: map[string]int{}, static: map[string][]typedSigs{}}
	for _, k := range append(append([]*zones.Key{}, ksk...), zsk...) {
		if !containsKey(zs.expiry, k.Name()) {
			zs.expiry = append(zs.expiry, keyExpiry{key: k.Name(), at: expiration})
		}
	}

	keyTTL := z.SOA.Hdr.Ttl
	var dnskeys, cds, cdnskey []dns.RR
	for _, k := range d.Published(now) {
		key := *k.DNSKEY
		key.Hdr.Ttl = keyTTL
		dnskeys = append(dnskeys, &key)
	}
	// CDS and CDNSKEY ask the parent for the DS of the keys that sign the
	// key set now (RFC 7344 §4).
	for _, k := range ksk {
		ds := k.DNSKEY.ToDS(dns.SHA256).ToCDS()
		ds.Hdr.Ttl = keyTTL
		cds = append(cds, ds)
		cdn := k.DNSKEY.ToCDNSKEY()
		cdn.Hdr.Ttl = keyTTL
		cdnskey = append(cdnskey, cdn)
	}
	for t, set := range map[uint16][]dns.RR{dns.TypeDNSKEY: dnskeys, dns.TypeCDS: cds, dns.TypeCDNSKEY: cdnskey} {
		zs.keys[t] = set
		zs.sigs[setKey{z.Origin, t}] = sg.sign(ksk, set, keyTTL)
	}

	names := chainNames(z)
	for i, n := range names {
		types := []uint16{dns.TypeRRSIG, dns.TypeNSEC}
		for _, set := range n.Sets {
			types = append(types, set.Type)
			if !n.Delegation {
				sigs := sg.sign(zsk, set.RRs, set.RRs[0].Header().Ttl)
				zs.sigs[setKey{n.Name, set.Type}] = sigs
				zs.static[n.Name] = append(zs.static[n.Name], typedSigs{t: set.Type, rdata: rdataOf(sigs, sg)})
			}
		}
		if n.Name == z.Origin {
			types = append(types, dns.TypeDNSKEY, dns.TypeCDS, dns.TypeCDNSKEY)
		}
		if p := n.Steer; p != nil {
			types = append(types, dns.TypeCNAME)
			per := make([]steerSigs, len(p.Targets))
			for ci, target := range p.Targets {
				if target == "" {
					continue
				}
				cname := &dns.CNAME{Hdr: dns.RR_Header{Name: n.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: p.TTL}, Target: target}
				rrs := sg.sign(zsk, []dns.RR{cname}, p.TTL)
				per[ci] = steerSigs{rrs: rrs, rdata: rdataOf(rrs, sg)}
			}
			zs.steer[n.Name] = per
		}
		sort.Slice(types, func(a, b int) bool { return types[a] < types[b] })
		next := names[(i+1)%len(names)].Name
		nsec := &dns.NSEC{Hdr: dns.RR_Header{Name: n.Name, Rrtype: dns.TypeNSEC, Class: dns.ClassINET, Ttl: z.NegSOA.Hdr.Ttl},
			NextDomain: next, TypeBitMap: types}
		zs.index[n.Name] = len(zs.nsec)
		zs.nsec = append(zs.nsec, nsec)
		zs.sigs[setKey{n.Name, dns.TypeNSEC}] = sg.sign(zsk, []dns.RR{nsec}, nsec.Hdr.Ttl)
	}
	zs.negSOA = sg.sign(zsk, []dns.RR{z.SOA}, z.NegSOA.Hdr.Ttl)
	if sg.err != nil {
		return nil, next, sg.err
	}
	wild := zs.covering("*." + z.Origin)
	for _, nsec := range zs.nsec {
		ns := append([]dns.RR{z.NegSOA}, zs.negSOA...)
		ns = zs.withNSEC(ns, nsec)
		// On error the template stays nil: the general path answers.
		t, _ := packAuthority(z, zs.withNSEC(ns, wild))
		zs.nx = append(zs.nx, t)
	}
	return zs, next, nil
}

func containsKey(ks []keyExpiry, name string) bool {
	for _, k := range ks {
		if k.key == name {
			return true
		}
	}
	return false
}

// rdataOf packs each RRSIG's data for the fast path, which writes the
// records' headers itself.
func rdataOf(rrs []dns.RR, sg *signer) [][]byte {
	buf := make([]byte, 1024)
	out := make([][]byte, 0, len(rrs))
	for _, rr := range rrs {
		end, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			if sg.err == nil {
				sg.err = err
			}
			return nil
		}
		off := 0
		for buf[off] != 0 {
			off += 1 + int(buf[off])
		}
		out = append(out, append([]byte(nil), buf[off+11:end]...))
	}
	return out
}

// chainNames are the names of z that own an NSEC record, in canonical
// order: every name with records (the zone cuts included, their glue
// not: it is not the zone's data) and every steered name. Empty
// non-terminals own none; the NSEC before one proves it has no data.
func chainNames(z *zones.Zone) []*zones.Node {
	var out []*zones.Node
	for _, n := range z.Nodes() {
		if len(n.Sets) == 0 && n.Steer == nil {
			continue
		}
		if _, cut := z.Find(n.Name); cut != nil && cut != n {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return canonicalLess(out[i].Name, out[j].Name) })
	return out
}

// canonicalLess orders names as RFC 4034 §6.1 does: label by label from
// the root, each compared as lower-case octets. Compiled names are in
// lower case without escapes.
func canonicalLess(a, b string) bool {
	la, lb := dns.SplitDomainName(a), dns.SplitDomainName(b)
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(strings.ToLower(la[i]), strings.ToLower(lb[j])); c != 0 {
			return c < 0
		}
	}
	return len(la) < len(lb)
}

// covering returns the NSEC whose owner is name or the last before it:
// for a name that does not own one, the record that proves it absent.
func (zs *zoneSigs) covering(name string) *dns.NSEC {
	if i, ok := zs.index[name]; ok {
		return zs.nsec[i]
	}
	i := sort.Search(len(zs.nsec), func(i int) bool { return canonicalLess(name, zs.nsec[i].Hdr.Name) })
	if i == 0 {
		i = len(zs.nsec)
	}
	return zs.nsec[i-1]
}

// withNSEC appends an NSEC record and its signatures to rrs, unless it
// is there already.
func (zs *zoneSigs) withNSEC(rrs []dns.RR, nsec *dns.NSEC) []dns.RR {
	for _, rr := range rrs {
		if rr == nsec {
			return rrs
		}
	}
	rrs = append(rrs, nsec)
	return append(rrs, zs.sigs[setKey{nsec.Hdr.Name, dns.TypeNSEC}]...)
}

// denial adds to the authority section the proof that name (lower case,
// inside the zone) does not exist (nx) or has no data of the type asked.
// The SOA is already there; its signatures come first.
func (zs *zoneSigs) denial(ns []dns.RR, name string, nx bool) []dns.RR {
	ns = append(ns, zs.negSOA...)
	if len(zs.nsec) == 0 {
		return ns
	}
	ns = zs.withNSEC(ns, zs.covering(name))
	if !nx {
		return ns
	}
	// The wildcard at the closest encloser does not exist either (RFC
	// 4035 §3.1.3.2): the nearest ancestor of name that exists.
	ce := zs.z.Origin
	for off, end := dns.NextLabel(name, 0); !end; off, end = dns.NextLabel(name, off) {
		if n, _ := zs.z.Find(name[off:]); n != nil || name[off:] == zs.z.Origin {
			ce = name[off:]
			break
		}
	}
	return zs.withNSEC(ns, zs.covering("*."+ce))
}

// sigsFor returns the RRSIGs of the RRset (name, t) with owner spelled
// as asked and the TTL the answer gives.
func (zs *zoneSigs) sigsFor(name string, t uint16, owner string, ttl uint32) []dns.RR {
	return withOwnerTTL(zs.sigs[setKey{name, t}], owner, ttl)
}

// staticSigs returns the data of the RRSIGs of the RRset (name, t), or
// nil. It takes bytes so that the query path need not build a string.
func (zs *zoneSigs) staticSigs(name []byte, t uint16) [][]byte {
	for _, s := range zs.static[string(name)] {
		if s.t == t {
			return s.rdata
		}
	}
	return nil
}

// nxTemplate returns the prepared signed NXDOMAIN authority for name (in
// z, absent), or nil when its closest encloser is not the apex.
func (zs *zoneSigs) nxTemplate(z *zones.Zone, name []byte) *negativeTemplate {
	if len(zs.nx) != len(zs.nsec) || len(zs.nsec) == 0 {
		return nil
	}
	// The fast path's names have no escapes: every dot ends a label.
	for off := bytes.IndexByte(name, '.') + 1; len(name)-off > len(z.Origin); off += bytes.IndexByte(name[off:], '.') + 1 {
		if !z.Absent(name[off:]) {
			return nil
		}
	}
	i := sort.Search(len(zs.nsec), func(i int) bool { return canonicalCmp(name, zs.nsec[i].Hdr.Name) < 0 })
	if i == 0 {
		i = len(zs.nsec)
	}
	return zs.nx[i-1]
}

// canonicalCmp compares a name given as bytes with one given as a string,
// both lower case, fully qualified, without escapes, in the canonical
// order of RFC 4034 §6.1 (canonicalLess's), without allocating.
func canonicalCmp(a []byte, b string) int {
	ea, eb := len(a)-1, len(b)-1 // drop the root's dot
	for {
		switch {
		case ea <= 0 && eb <= 0:
			return 0
		case ea <= 0:
			return -1
		case eb <= 0:
			return 1
		}
		sa, sb := ea-1, eb-1
		for sa >= 0 && a[sa] != '.' {
			sa--
		}
		for sb >= 0 && b[sb] != '.' {
			sb--
		}
		la, lb := a[sa+1:ea], b[sb+1:eb]
		for i := 0; i < len(la) && i < len(lb); i++ {
			if la[i] != lb[i] {
				if la[i] < lb[i] {
					return -1
				}
				return 1
			}
		}
		if len(la) != len(lb) {
			if len(la) < len(lb) {
				return -1
			}
			return 1
		}
		ea, eb = sa, sb
	}
}
