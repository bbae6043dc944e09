package zones

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// recordTypes are the static record types a zone may hold.
var recordTypes = map[string]uint16{
	"A": dns.TypeA, "AAAA": dns.TypeAAAA, "CNAME": dns.TypeCNAME, "TXT": dns.TypeTXT,
	"MX": dns.TypeMX, "CAA": dns.TypeCAA, "NS": dns.TypeNS, "SRV": dns.TypeSRV,
}

func (c *compiler) zones(zcs []ZoneConfig, s *Snapshot) {
	for i := range zcs {
		z := c.zone(fmt.Sprintf("zone[%d]", i), &zcs[i], s)
		if z == nil {
			continue
		}
		if other := s.byOrigin[z.Origin]; other != nil {
			c.el.Add(fmt.Sprintf("zone[%d].origin", i), "zone %q is defined twice", z.Origin)
			continue
		}
		for _, other := range s.Zones {
			if dns.IsSubDomain(other.Origin, z.Origin) || dns.IsSubDomain(z.Origin, other.Origin) {
				c.el.Add(fmt.Sprintf("zone[%d].origin", i), "zone %q overlaps zone %q: serve one zone and delegate the other", z.Origin, other.Origin)
			}
		}
		z.Index = len(s.Zones)
		s.Zones = append(s.Zones, z)
		s.byOrigin[z.Origin] = z
		s.longestOrigin = max(s.longestOrigin, len(z.Origin))
	}
	if len(zcs) == 0 {
		c.el.AddLine(0, "no [[zone]] is defined: there is nothing to serve")
	}
}

// zone compiles one [[zone]] at path at: its origin, its apex (SOA and
// NS), its records and its steered names.
func (c *compiler) zone(at string, zc *ZoneConfig, s *Snapshot) *Zone {
	origin, ok := c.origin(at, zc.Origin)
	if !ok {
		return nil
	}
	z := &Zone{Origin: origin, nodes: map[string]*Node{}}
	ttl := c.zoneNumber(at, origin, "ttl", zc.TTL, DefaultRecordTTL)
	z.Minimum = c.zoneNumber(at, origin, "minimum", zc.Minimum, DefaultMinimum)
	c.apex(at, zc, z, ttl)
	ttls := map[string]string{} // owner/type → path of the first record, for TTL checks
	for j := range zc.Record {
		c.record(fmt.Sprintf("%s.record[%d]", at, j), &zc.Record[j], z, ttl, ttls)
	}
	for j := range zc.Steer {
		c.steer(fmt.Sprintf("%s.steer[%d]", at, j), &zc.Steer[j], z, s)
	}
	c.checkZone(at, z)
	c.dnssec(at, zc.DNSSEC, z)
	return z
}

// origin reads a zone's origin in canonical form.
func (c *compiler) origin(at, name string) (string, bool) {
	origin, err := canonicalName(name)
	if err != nil {
		if name == "" {
			c.el.Add(at, "zone: origin is missing")
		} else {
			c.badName(at+".origin", "zone: origin", name, err)
		}
		return "", false
	}
	return origin, true
}

// zoneNumber reads one of a zone's 32-bit settings (a TTL, an SOA
// counter): def when unset, and def after an error when out of range.
func (c *compiler) zoneNumber(at, origin, key string, v *int64, def int64) uint32 {
	if v == nil {
		return uint32(def)
	}
	if *v < 0 || *v > math.MaxInt32 {
		c.el.Add(at+"."+key, "zone %s: %s %d is outside 0..%d", origin, key, *v, math.MaxInt32)
		return uint32(def)
	}
	return uint32(*v)
}

// apex builds the zone's NS and SOA records (and the SOA of its negative
// answers) at the apex node. The SOA names the first NS as the primary.
func (c *compiler) apex(at string, zc *ZoneConfig, z *Zone, ttl uint32) {
	origin := z.Origin
	apex := z.node(origin)
	if len(zc.NS) == 0 {
		c.el.Add(at, "zone %s: ns is missing: list the names of the servers the zone is delegated to", origin)
	}
	for _, n := range zc.NS {
		host, err := canonicalName(n)
		if err != nil {
			c.badName(at+".ns", "zone "+origin+": ns", n, err)
			continue
		}
		z.NS = append(z.NS, &dns.NS{Hdr: hdr(origin, dns.TypeNS, ttl), Ns: host})
	}
	mbox := "hostmaster." + origin
	if zc.Hostmaster != "" {
		m, err := canonicalMailbox(mailbox(zc.Hostmaster))
		if err != nil {
			c.el.Add(at+".hostmaster", "zone %s: hostmaster %q is not a valid mailbox%s", origin, zc.Hostmaster, because(err))
		} else {
			mbox = m
		}
	}
	mname := mbox
	if len(z.NS) > 0 {
		mname = z.NS[0].(*dns.NS).Ns
	}
	num := func(key string, v *int64, def int64) uint32 { return c.zoneNumber(at, origin, key, v, def) }
	z.SOA = &dns.SOA{Hdr: hdr(origin, dns.TypeSOA, ttl), Ns: mname, Mbox: mbox,
		Serial: num("serial", zc.Serial, DefaultSerial), Refresh: num("refresh", zc.Refresh, DefaultRefresh),
		Retry: num("retry", zc.Retry, DefaultRetry), Expire: num("expire", zc.Expire, DefaultExpire), Minttl: z.Minimum}
	apex.add(z.SOA)
	z.NegSOA = dns.Copy(z.SOA).(*dns.SOA)
	z.NegSOA.Hdr.Ttl = min(ttl, z.Minimum)
	for _, ns := range z.NS {
		apex.add(ns)
	}
}

// steer makes a name of z answer for a policy.
func (c *compiler) steer(at string, sc *SteerConfig, z *Zone, s *Snapshot) {
	owner, ok := c.owner(at, sc.Name, z.Origin)
	if !ok {
		return
	}
	p := s.PolicyByName(sc.Policy)
	switch {
	case sc.Policy == "":
		c.el.Add(at, "steer %s: policy is missing", owner)
		return
	case p == nil:
		c.el.Add(at+".policy", "steer %s: policy %q is not defined", owner, sc.Policy)
		return
	case owner == z.Origin:
		c.el.Add(at+".name", "steer %s: the zone apex cannot be steered (a CNAME cannot live beside SOA and NS)", owner)
		return
	}
	n := z.node(owner)
	switch {
	case n.Steer != nil:
		c.el.Add(at+".name", "steer %s: name is steered twice", owner)
	case len(n.Sets) > 0:
		c.el.Add(at+".name", "steer %s: collides with a static %s record at the same name", owner, dns.TypeToString[n.Sets[0].Type])
	default:
		n.Steer = p
		c.note(owner, "", at)
	}
}

func (c *compiler) record(at string, rc *RecordConfig, z *Zone, defTTL uint32, ttls map[string]string) {
	owner, ok := c.owner(at, rc.Name, z.Origin)
	if !ok {
		return
	}
	typ := strings.ToUpper(rc.Type)
	t, known := recordTypes[typ]
	switch {
	case rc.Type == "":
		c.el.Add(at, "record %s: type is missing", owner)
		return
	case !known:
		c.el.Add(at+".type", "record %s: type %q is not supported (use A, AAAA, CNAME, TXT, MX, CAA, NS, SRV)", owner, rc.Type)
		return
	case rc.Value == "":
		c.el.Add(at, "record %s %s: value is missing", owner, typ)
		return
	case strings.ContainsAny(rc.Value, "\n\r"):
		c.el.Add(at+".value", "record %s %s: value must be one line", owner, typ)
		return
	case t == dns.TypeNS && owner == z.Origin:
		c.el.Add(at+".type", "record %s NS: the apex NS records come from the zone's ns list", owner)
		return
	}
	ttl := defTTL
	if rc.TTL != nil {
		if *rc.TTL < 0 || *rc.TTL > math.MaxInt32 {
			c.el.Add(at+".ttl", "record %s %s: ttl %d is outside 0..%d", owner, typ, *rc.TTL, math.MaxInt32)
			return
		}
		ttl = uint32(*rc.TTL)
	}
	value := rc.Value
	if t == dns.TypeTXT && !strings.HasPrefix(value, `"`) {
		value = quoteTXT(value)
	}
	zp := dns.NewZoneParser(strings.NewReader(fmt.Sprintf("%s %d IN %s %s\n", owner, ttl, typ, value)), z.Origin, "")
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil || !ok || rr.Header().Rrtype != t {
		c.el.Add(at+".value", "record %s %s: bad value %q", owner, typ, rc.Value)
		return
	}
	if _, more := zp.Next(); more {
		c.el.Add(at+".value", "record %s %s: value holds more than one record", owner, typ)
		return
	}
	if p := rdataName(rr); p != nil {
		canon, err := canonicalName(*p)
		if err != nil {
			c.badName(at+".value", fmt.Sprintf("record %s %s:", owner, typ), *p, err)
			return
		}
		*p = canon
	}
	n := z.node(owner)
	key := owner + "/" + typ
	if first, seen := ttls[key]; seen {
		if prev := n.Set(t); len(prev) > 0 && prev[0].Header().Ttl != ttl {
			c.el.Add(at+".ttl", "record %s %s: ttl %d differs from the ttl %d of the same RRset at line %d", owner, typ, ttl, prev[0].Header().Ttl, c.el.Line(first))
			return
		}
		for _, old := range n.Set(t) {
			if dns.IsDuplicate(old, rr) {
				c.el.Add(at, "record %s %s %s is listed twice", owner, typ, rc.Value)
				return
			}
		}
	} else {
		ttls[key] = at
	}
	c.note(owner, typ, at)
	n.add(rr)
}

func (c *compiler) note(owner, typ, path string) {
	if _, ok := c.where[owner]; !ok {
		c.where[owner] = path
	}
	if typ != "" {
		if _, ok := c.where[owner+"/"+typ]; !ok {
			c.where[owner+"/"+typ] = path
		}
	}
}

// owner resolves a record name ("@", relative or absolute) in the zone.
func (c *compiler) owner(at, name, origin string) (string, bool) {
	var full string
	switch {
	case name == "":
		c.el.Add(at, "name is missing (use \"@\" for the zone apex)")
		return "", false
	case name == "@":
		return origin, true
	case strings.HasSuffix(name, "."):
		full = name
	default:
		full = name + "." + origin
	}
	if strings.Contains(name, "*") {
		c.el.Add(at+".name", "name %q: wildcards are not supported", name)
		return "", false
	}
	owner, err := canonicalName(full)
	if err != nil {
		c.badName(at+".name", "name", name, err)
		return "", false
	}
	if !dns.IsSubDomain(origin, owner) {
		c.el.Add(at+".name", "name %q is outside zone %s", name, origin)
		return "", false
	}
	return owner, true
}

// checkZone enforces the rules that span records: CNAME exclusivity, zone
// cuts, and addresses for in-zone name servers.
func (c *compiler) checkZone(at string, z *Zone) {
	names := sortedKeys(z.nodes)
	for _, name := range names {
		n := z.nodes[name]
		sort.Slice(n.Sets, func(i, j int) bool { return n.Sets[i].Type < n.Sets[j].Type })
		if cn := n.Set(dns.TypeCNAME); cn != nil {
			switch {
			case name == z.Origin:
				c.el.Add(c.at(name, "CNAME", at), "zone %s: a CNAME cannot be at the zone apex", z.Origin)
			case len(cn) > 1:
				c.el.Add(c.at(name, "CNAME", at), "record %s CNAME: a name can have only one CNAME", name)
			case len(n.Sets) > 1:
				c.el.Add(c.at(name, "CNAME", at), "record %s CNAME: a CNAME cannot live beside other records (%s)", name, dns.TypeToString[otherType(n, dns.TypeCNAME)])
			}
		}
		if name != z.Origin && n.Set(dns.TypeNS) != nil {
			n.Delegation = true
			if len(n.Sets) > 1 {
				c.el.Add(c.at(name, "NS", at), "record %s: a delegation (NS) cannot have other records (%s) at the same name", name, dns.TypeToString[otherType(n, dns.TypeNS)])
			}
		}
	}
	for _, name := range names {
		n := z.nodes[name]
		_, cut := z.Find(name)
		if cut == nil || cut == n {
			continue
		}
		if n.Steer != nil {
			c.el.Add(c.at(name, "", at), "steer %s: name is below the delegation %s", name, cut.Name)
		}
		for _, set := range n.Sets {
			if set.Type != dns.TypeA && set.Type != dns.TypeAAAA {
				c.el.Add(c.at(name, dns.TypeToString[set.Type], at), "record %s %s: name is below the delegation %s (only glue addresses may be)", name, dns.TypeToString[set.Type], cut.Name)
			}
		}
	}
	// In-zone CNAME chains must end: a loop would make every answer a
	// string of repeated records.
	for _, name := range names {
		seen := map[string]bool{}
		for cur := name; ; {
			n := z.nodes[cur]
			if n == nil || n.Set(dns.TypeCNAME) == nil {
				break
			}
			if seen[cur] {
				c.el.Add(c.at(name, "CNAME", at), "record %s CNAME: the chain loops back to %s", name, cur)
				break
			}
			seen[cur] = true
			cur = n.Set(dns.TypeCNAME)[0].(*dns.CNAME).Target
		}
	}
	apex := z.Apex()
	apex.Glue = z.glueFor(z.NS)
	for _, host := range z.unaddressed(z.NS) {
		c.el.Add(at+".ns", "zone %s: name server %s is inside the zone but has no A or AAAA record", z.Origin, host)
	}
	for _, name := range names {
		n := z.nodes[name]
		if !n.Delegation {
			continue
		}
		n.Glue = z.glueFor(n.Set(dns.TypeNS))
		// A server inside the zone is reached only through the address
		// given here: without one the child cannot be resolved.
		for _, host := range z.unaddressed(n.Set(dns.TypeNS)) {
			c.el.Add(c.at(name, "NS", at), "record %s NS: name server %s is inside the zone but has no A or AAAA record", name, host)
		}
	}
	z.Glue = apex.Glue
}

// glueFor collects the in-zone addresses of the name servers in nss.
func (z *Zone) glueFor(nss []dns.RR) []dns.RR {
	var glue []dns.RR
	for _, rr := range nss {
		n := z.nodes[rr.(*dns.NS).Ns]
		if n == nil {
			continue
		}
		glue = append(glue, n.Set(dns.TypeA)...)
		glue = append(glue, n.Set(dns.TypeAAAA)...)
	}
	return glue
}

// unaddressed lists the name servers in nss that are inside the zone but
// have no address in it.
func (z *Zone) unaddressed(nss []dns.RR) []string {
	var out []string
	for _, rr := range nss {
		host := rr.(*dns.NS).Ns
		if !dns.IsSubDomain(z.Origin, host) {
			continue
		}
		if n := z.nodes[host]; n == nil || (n.Set(dns.TypeA) == nil && n.Set(dns.TypeAAAA) == nil) {
			out = append(out, host)
		}
	}
	return out
}

// node returns the node for owner, creating it and any empty non-terminals
// between it and the apex.
func (z *Zone) node(owner string) *Node {
	if n := z.nodes[owner]; n != nil {
		return n
	}
	n := &Node{Name: owner}
	z.nodes[owner] = n
	for off, end := dns.NextLabel(owner, 0); !end; off, end = dns.NextLabel(owner, off) {
		parent := owner[off:]
		if len(parent) < len(z.Origin) || z.nodes[parent] != nil {
			break
		}
		z.nodes[parent] = &Node{Name: parent}
	}
	return n
}

func (n *Node) add(rr dns.RR) {
	t := rr.Header().Rrtype
	for i := range n.Sets {
		if n.Sets[i].Type == t {
			n.Sets[i].RRs = append(n.Sets[i].RRs, rr)
			return
		}
	}
	n.Sets = append(n.Sets, RRSet{Type: t, RRs: []dns.RR{rr}})
}

func otherType(n *Node, not uint16) uint16 {
	for _, s := range n.Sets {
		if s.Type != not {
			return s.Type
		}
	}
	return 0
}

func hdr(name string, t uint16, ttl uint32) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
}

// mailbox turns "user@example.com" into the SOA form "user.example.com",
// escaping dots in the local part as RFC 1035 requires.
func mailbox(m string) string {
	at := strings.LastIndexByte(m, '@')
	if at < 0 {
		return m
	}
	return strings.ReplaceAll(m[:at], ".", `\.`) + "." + m[at+1:]
}

// quoteTXT turns plain text into TXT presentation form, split into the
// 255-byte character-strings the wire format allows.
func quoteTXT(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		chunk := s
		if len(chunk) > 255 {
			chunk = chunk[:255]
		}
		s = s[len(chunk):]
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(chunk))
		b.WriteByte('"')
	}
	return b.String()
}
