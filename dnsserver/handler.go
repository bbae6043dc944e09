// Package dnsserver answers DNS queries from a compiled policy: the packet
// handler, its listeners on UDP and TCP, and their metrics.
package dnsserver

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/rrl"
	"github.com/cdnsteer/cdnsteer/zones"
)

// Reply size limits. 1232 avoids IP fragmentation on any common path
// (the DNS Flag Day 2020 value); 512 is the pre-EDNS limit.
const (
	maxUDPSize     = 1232
	minUDPSize     = 512
	maxMessageSize = dns.MaxMsgSize
)

// Handler turns query packets into reply packets. It is safe for
// concurrent use; it takes no lock on the query path.
type Handler struct {
	state   atomic.Pointer[State]
	metrics *Metrics
	// limiter is kept across reloads so that a reload does not forgive
	// the clients it is limiting.
	limiter *rrl.Limiter
	// lastPanicLog is when a recovered panic was last logged (unix
	// seconds): once a second is enough to find the bug, and a packet that
	// triggers one must not flood the log.
	lastPanicLog atomic.Int64
	// mu serialises writers so that two updates never lose each other;
	// queries never take it.
	mu sync.Mutex
	// signing re-signs signed zones in the background (dnssec_signer.go).
	signing signing
	// tap logs a sample of the queries as dnstap (dnstap.go); nil: off.
	tap atomic.Pointer[Tap]
}

// NewHandler returns a handler that answers from snap.
func NewHandler(snap *zones.Snapshot, m *Metrics) *Handler {
	h := &Handler{metrics: m}
	h.registerSigningMetrics()
	h.Install(snap, nil)
	return h
}

// Install makes snap, with the live weights computed for it, the state
// that new queries see. Queries in flight finish with the state they
// started with.
func (h *Handler) Install(snap *zones.Snapshot, live *health.Table) {
	h.update(func(st *State) {
		if st.Snap != snap {
			st.counters = h.metrics.resolve(snap)
			st.RRL = h.rateLimiter(snap)
			st.templates = newTemplates(snap)
			st.templates.sig = h.signaturesFor(snap, h.now())
		}
		st.Snap, st.Live = snap, live
		st.defaultRegion = snap.RegionIndex(zones.DefaultRegion)
	})
	h.scheduleSigning()
}

// SetLive publishes new live weights for the snapshot in force.
func (h *Handler) SetLive(live *health.Table) {
	h.update(func(st *State) { st.Live = live })
}

// SetGeoDB switches to a new GeoIP database. The old one is not closed:
// queries may still hold it, and the garbage collector frees it after.
func (h *Handler) SetGeoDB(db *geo.DB) {
	h.update(func(st *State) { st.DB = db })
}

// SetASNDB switches to a new ASN database, like SetGeoDB.
func (h *Handler) SetASNDB(a *geo.ASNDB) {
	h.update(func(st *State) { st.ASN = a })
}

func (h *Handler) update(change func(*State)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	next := &State{}
	cur := h.state.Load()
	if cur != nil {
		*next = *cur
	}
	change(next)
	if next.Snap != nil && (cur == nil || cur.Snap.GeoTable != next.Snap.GeoTable || cur.DB != next.DB || cur.ASN != next.ASN) {
		// Tens of milliseconds with a full country database: writers wait
		// (they are rare), queries do not.
		next.asnRegions = geo.NewASNRegions(next.Snap.GeoTable, next.ASN)
		next.subnets = geo.NewSubnetMapASN(next.Snap.GeoTable, next.DB, next.asnRegions)
	}
	h.state.Store(next)
}

// State returns the state in force.
func (h *Handler) State() *State { return h.state.Load() }

// Respond answers one query packet received from client over UDP or TCP.
// It appends the reply to buf[:0] and returns it, or nil when the packet
// deserves no reply (it is a response, or too short to hold a header: a
// reply could then only help an attacker reflect traffic).
func (h *Handler) Respond(buf, pkt []byte, client netip.Addr, tcp bool) (out []byte) {
	defer func() {
		// A bug must cost one answer, never the server.
		if r := recover(); r != nil {
			h.metrics.panics.Inc()
			h.logPanic(r, pkt)
			out = nil
		}
	}()
	if len(pkt) < 12 {
		h.metrics.droppedShort.Inc()
		return nil
	}
	if pkt[2]&0x80 != 0 {
		h.metrics.droppedResponse.Inc()
		return nil
	}
	st := h.state.Load()
	if !tcp {
		// Reading the clock twice costs as much as a good part of a fast
		// answer, so the fast path times one query in 16 — chosen by the
		// low bits of its random ID — and the clock is read otherwise only
		// when rate limiting needs it.
		var start time.Time
		timed := pkt[1]&15 == 0
		if timed || st.RRL != nil {
			start = time.Now()
		}
		if out, ok := h.fast(buf[:0], pkt, client, st, start); ok {
			if timed {
				h.metrics.udp.Observe(time.Since(start).Seconds())
			}
			return out
		}
		if start.IsZero() {
			start = time.Now()
		}
		return h.general(buf, pkt, client, tcp, st, start)
	}
	return h.general(buf, pkt, client, tcp, st, time.Now())
}

// general answers any packet with a decoded message: everything the fast
// path leaves, and TCP.
func (h *Handler) general(buf, pkt []byte, client netip.Addr, tcp bool, st *State, start time.Time) []byte {
	q := query{h: h, st: st, client: client, tcp: tcp, start: start}
	resp := q.answer(pkt)
	limit := maxMessageSize
	if !tcp {
		limit = q.edns.udpLimit()
	}
	fit(resp, limit, q.cut)
	out, err := resp.PackBuffer(buf[:cap(buf)])
	if err != nil {
		// A reply we built cannot be packed: say SERVFAIL rather than
		// leave the client waiting.
		out = servfail(buf, pkt)
		q.rcode = dns.RcodeServerFailure
	}
	st.counters.queries[q.zone(st)][qtypeIndex(q.qtype)][rcodeIndex(q.rcode)].Inc()
	if !tcp && st.RRL != nil {
		out = q.limit(out, resp, start)
	}
	if tcp {
		h.metrics.tcp.Observe(time.Since(start).Seconds())
	} else {
		h.metrics.udp.Observe(time.Since(start).Seconds())
	}
	return out
}

// servfail is a bare SERVFAIL carrying the query's ID and opcode.
func servfail(buf, pkt []byte) []byte {
	out := append(buf[:0], pkt[:12]...)
	out[2] = out[2]&0x78 | 0x80 | pkt[2]&0x01
	out[3] = dns.RcodeServerFailure
	for i := 4; i < 12; i++ {
		out[i] = 0
	}
	return out
}

// query is the work of answering one packet.
type query struct {
	h      *Handler
	st     *State
	client netip.Addr
	tcp    bool

	edns edns
	// scope is the ECS SCOPE PREFIX-LENGTH of the reply: how wide a
	// client subnet the answer holds for (RFC 7871 §7.2.1).
	scope uint8
	z     *zones.Zone
	// cut is the delegated name of a referral, whose glue must fit.
	cut   string
	qtype uint16
	rcode int
	start time.Time
	// zs is the zone's signatures when the query has DO=1 and the zone
	// is signed: the answer then carries them (dnssec.go).
	zs *zoneSigs
}

func (q *query) zone(st *State) int {
	if q.z == nil {
		return len(st.Snap.Zones)
	}
	return q.z.Index
}

func (q *query) answer(pkt []byte) *dns.Msg {
	req := new(dns.Msg)
	resp := new(dns.Msg)
	e, malformed := parseEDNS(pkt)
	q.edns = e
	if e.present {
		defer q.addOPT(resp)
	}
	badVers := e.present && e.version != 0 && malformed == nil
	if err := req.Unpack(pkt); err != nil {
		// The library decodes the question first and the options last;
		// options in the format of a version we do not speak do not make
		// the query malformed.
		whole := len(req.Question) == int(binary.BigEndian.Uint16(pkt[4:]))
		if !badVers || !whole {
			if whole {
				resp.Question = req.Question
			}
			return q.formerr(resp, pkt)
		}
	}
	resp.Id = req.Id
	resp.Response = true
	resp.Opcode = req.Opcode
	resp.RecursionDesired = req.RecursionDesired
	resp.CheckingDisabled = req.CheckingDisabled
	resp.Question = req.Question
	if len(req.Question) == 1 {
		q.qtype = req.Question[0].Qtype
	}
	switch {
	case malformed != nil:
		return q.fail(resp, dns.RcodeFormatError)
	case badVers:
		return q.fail(resp, dns.RcodeBadVers)
	case req.Opcode != dns.OpcodeQuery:
		return q.fail(resp, dns.RcodeNotImplemented)
	case len(req.Question) == 1 && (q.qtype == dns.TypeAXFR || q.qtype == dns.TypeIXFR):
		// There are no secondaries to transfer to: answers are
		// computed. An IXFR carries the client's SOA in its authority
		// section (RFC 1995 §3), so this comes before that check.
		return q.fail(resp, dns.RcodeRefused)
	case len(req.Question) != 1 || len(req.Answer) > 0 || len(req.Ns) > 0:
		return q.fail(resp, dns.RcodeFormatError)
	}
	question := req.Question[0]
	switch {
	case question.Qclass == dns.ClassCHAOS:
		return q.chaos(resp, question)
	case question.Qclass != dns.ClassINET:
		return q.fail(resp, dns.RcodeRefused)
	case question.Qtype == dns.TypeOPT:
		return q.fail(resp, dns.RcodeFormatError)
	case question.Qtype == dns.TypeMAILA || question.Qtype == dns.TypeMAILB:
		return q.fail(resp, dns.RcodeNotImplemented)
	}
	q.lookup(resp, question)
	return resp
}

// formerr answers a packet whose header is readable but whose body is not
// (with the question when that much was read).
func (q *query) formerr(resp *dns.Msg, pkt []byte) *dns.Msg {
	resp.Id = binary.BigEndian.Uint16(pkt)
	resp.Response = true
	resp.Opcode = int(pkt[2]>>3) & 0xf
	resp.RecursionDesired = pkt[2]&0x01 != 0
	return q.fail(resp, dns.RcodeFormatError)
}

func (q *query) fail(resp *dns.Msg, rcode int) *dns.Msg {
	resp.Rcode = rcode
	q.rcode = rcode
	return resp
}

// addOPT adds the reply's OPT record: our buffer size, the DO bit echoed
// (RFC 3225), and the client subnet echoed with the scope that the answer
// holds for (RFC 7871 §7.2.1).
func (q *query) addOPT(resp *dns.Msg) {
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: maxUDPSize}}
	if q.edns.do {
		opt.SetDo()
	}
	if q.edns.ecs.present && q.st.Snap.Geo.ECS && q.rcode != dns.RcodeFormatError && q.rcode != dns.RcodeBadVers {
		e := q.edns.ecs
		opt.Option = append(opt.Option, &dns.EDNS0_SUBNET{
			Code: dns.EDNS0SUBNET, Family: e.family, SourceNetmask: e.source,
			SourceScope: q.scope, Address: e.addr.AsSlice(),
		})
	}
	resp.Extra = append(resp.Extra, opt)
}

func (q *query) lookup(resp *dns.Msg, question dns.Question) {
	name := strings.ToLower(question.Name)
	z := q.st.Snap.FindZone(name)
	if z == nil {
		q.fail(resp, dns.RcodeRefused)
		return
	}
	q.z = z
	if q.edns.do {
		zs, expired := q.h.signedZone(q.st, z.Index, q.start)
		if expired {
			// Signatures validators reject would make the name fail
			// for them anyway; SERVFAIL sends them to another server.
			q.fail(resp, dns.RcodeServerFailure)
			return
		}
		q.zs = zs
	}
	resp.Authoritative = true
	node, cut := z.Find(name)
	switch {
	case cut != nil:
		q.referral(resp, z, cut, name, question)
	case node == nil:
		resp.Ns = append(resp.Ns, z.NegSOA)
		q.deny(resp, name, true)
		q.fail(resp, dns.RcodeNameError)
	case node.Steer != nil:
		q.steer(resp, node.Steer, question)
	default:
		q.static(resp, z, node, question)
	}
}

// referral answers a name at or below a zone cut with the delegation.
func (q *query) referral(resp *dns.Msg, z *zones.Zone, cut *zones.Node, name string, question dns.Question) {
	if name == cut.Name && question.Qtype == dns.TypeDS {
		// DS lives on the parent side of the cut: no DS here is NODATA.
		resp.Ns = append(resp.Ns, z.NegSOA)
		q.deny(resp, cut.Name, false)
		return
	}
	resp.Authoritative = false
	q.cut = cut.Name
	resp.Ns = append(resp.Ns, cut.Set(dns.TypeNS)...)
	if q.zs != nil {
		// The referral's NS records are the child's and go unsigned; the
		// NSEC at the cut proves that the child has no DS (an insecure
		// delegation).
		resp.Ns = q.zs.withNSEC(resp.Ns, q.zs.covering(cut.Name))
	}
	resp.Extra = append(resp.Extra, cut.Glue...)
}

// steer answers a steered name with one CNAME, whatever the type asked:
// a name with a CNAME has no other data (RFC 1034 §3.6.2), and resolvers
// follow it for A, AAAA, HTTPS and the rest alike.
func (q *query) steer(resp *dns.Msg, p *zones.Policy, question dns.Question) {
	var c choice
	q.st.choose(&c, p, q.client, &q.edns.ecs)
	q.scope = c.scope
	if c.cdn < 0 {
		q.fail(resp, dns.RcodeServerFailure)
		return
	}
	var sigs []dns.RR
	if q.zs != nil {
		// A validator caps the TTL at the signature's original TTL, the
		// policy's: the answer says so itself.
		c.ttl = min(c.ttl, p.TTL)
		if per := q.zs.steer[strings.ToLower(question.Name)]; c.cdn < len(per) {
			sigs = withOwnerTTL(per[c.cdn].rrs, question.Name, c.ttl)
		}
	}
	resp.Answer = append(resp.Answer, &dns.CNAME{
		Hdr:    dns.RR_Header{Name: question.Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: c.ttl},
		Target: p.Targets[c.cdn],
	})
	resp.Answer = append(resp.Answer, sigs...)
	q.h.metrics.geo[c.source].Inc()
	q.st.counters.answers[p.Index][c.region][c.cdn].Inc()
}

// maxChain bounds how many in-zone CNAMEs are followed in one answer.
const maxChain = 8

func (q *query) static(resp *dns.Msg, z *zones.Zone, node *zones.Node, question dns.Question) {
	owner := question.Name
	for hop := 0; ; hop++ {
		if cn := node.Set(dns.TypeCNAME); cn != nil && question.Qtype != dns.TypeCNAME {
			resp.Answer = append(resp.Answer, withOwner(cn, owner)...)
			q.addSigs(resp, node.Name, dns.TypeCNAME, owner, cn[0].Header().Ttl)
			target := cn[0].(*dns.CNAME).Target
			if hop == maxChain || q.st.Snap.FindZone(target) != z {
				return
			}
			next, cut := z.Find(target)
			switch {
			case cut != nil:
				// Delegated: the resolver asks the child for the rest.
				return
			case next == nil:
				// The rcode is the last name's (RFC 6604 §3).
				resp.Ns = append(resp.Ns, z.NegSOA)
				q.deny(resp, target, true)
				q.fail(resp, dns.RcodeNameError)
				return
			case next.Steer != nil:
				q.steer(resp, next.Steer, dns.Question{Name: target, Qtype: question.Qtype, Qclass: question.Qclass})
				return
			}
			node, owner = next, target
			continue
		}
		break
	}
	var set []dns.RR
	if question.Qtype == dns.TypeANY {
		// RFC 8482: one RRset is a complete answer to ANY.
		if len(node.Sets) > 0 {
			set = node.Sets[0].RRs
		}
	} else {
		set = node.Set(question.Qtype)
		if set == nil {
			set = q.signedSet(z, node, question.Qtype)
		}
	}
	if set == nil {
		// NODATA, at the end of a chain too (RFC 2308 §2.2).
		resp.Ns = append(resp.Ns, z.NegSOA)
		q.deny(resp, node.Name, false)
		return
	}
	resp.Answer = append(resp.Answer, withOwner(set, owner)...)
	q.addSigs(resp, node.Name, set[0].Header().Rrtype, owner, set[0].Header().Ttl)
	if set[0].Header().Rrtype == dns.TypeNS {
		resp.Extra = append(resp.Extra, node.Glue...)
	}
}

// withOwner returns rrs with their owner spelled as the query spelled it,
// copying them: compiled records are shared by every query.
func withOwner(rrs []dns.RR, owner string) []dns.RR {
	if rrs[0].Header().Name == owner {
		return rrs
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Name = owner
	}
	return out
}

// chaos answers the CHAOS-class identity queries operators use to tell
// which server answered (version.bind, id.server and their aliases), when
// the policy gives answers; otherwise they are refused like any other
// class, so that nothing about the build leaks by default.
func (q *query) chaos(resp *dns.Msg, question dns.Question) *dns.Msg {
	var text string
	switch strings.ToLower(question.Name) {
	case "version.bind.", "version.server.":
		text = q.st.Snap.Server.ChaosVersion
	case "id.server.", "hostname.bind.":
		text = q.st.Snap.Server.ChaosID
	}
	if text == "" || (question.Qtype != dns.TypeTXT && question.Qtype != dns.TypeANY) {
		return q.fail(resp, dns.RcodeRefused)
	}
	resp.Authoritative = true
	resp.Answer = append(resp.Answer, &dns.TXT{
		Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: []string{text}})
	return resp
}

// ecsScope is the SCOPE PREFIX-LENGTH of a steered answer (RFC 7871
// §7.2.1): it must cover neither another region (regionBits, the width of
// the network that decided the region) nor another pick (the CDN is chosen
// per /24 or /56 of the client subnet). Wider would let a resolver hand
// one subnet's CDN to its neighbours and reshuffle them every TTL.
//
// An IPv4 client in an IPv6 subnet (family 2, ::ffff:a.b.c.d) is steered
// by its IPv4 address, and the scope counts the family's bits: the 96 of
// the mapping prefix first, else a /24 would cover all of IPv4 and more.
func ecsScope(regionBits uint8, subject netip.Addr) uint8 {
	scope := max(regionBits, health.SubnetBits(subject))
	if subject.Is4In6() {
		scope += 96
	}
	return scope
}

func (h *Handler) logPanic(r any, pkt []byte) {
	now := time.Now().Unix()
	last := h.lastPanicLog.Load()
	if now == last || !h.lastPanicLog.CompareAndSwap(last, now) {
		return
	}
	slog.Error("recovered from a panic answering a packet; it was not answered", "panic", r, "packet", fmt.Sprintf("%x", pkt), "stack", string(debug.Stack()))
}
