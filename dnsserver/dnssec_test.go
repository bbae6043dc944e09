package dnsserver

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

const signedOrigin = "live.example.com."

// signedPolicy is testdata/policy.toml with live.example.com. signed by
// the keys in keys; it returns the policy's path.
func signedPolicy(t testing.TB, keys string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/policy.toml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(data), "minimum = 60\n", "minimum = 60\n[zone.dnssec]\nkeys = \""+keys+"\"\n", 1)
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// longAgo is when the tests' first keys became active.
var longAgo = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// cskDir writes one combined signing key, active since longAgo.
func cskDir(t testing.TB, alg uint8) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := zones.GenerateKey(dir, signedOrigin, alg, true, longAgo, zones.KeyTiming{Publish: longAgo, Activate: longAgo}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// clockHandler is a handler for the policy at path whose signer reads
// *clock.
func clockHandler(t testing.TB, path string, clock *time.Time) (*Handler, *prometheus.Registry) {
	t.Helper()
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	reg := prometheus.NewRegistry()
	h := &Handler{metrics: NewMetrics(reg)}
	if clock != nil {
		h.signing.clock = func() time.Time { return *clock }
	}
	h.registerSigningMetrics()
	h.Install(snap, nil)
	t.Cleanup(func() {
		h.signing.mu.Lock()
		if h.signing.timer != nil {
			h.signing.timer.Stop()
		}
		h.signing.mu.Unlock()
	})
	return h, reg
}

func doQuery(name string, qtype uint16, size uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.SetEdns0(size, true)
	return q
}

func ask(t testing.TB, h *Handler, q *dns.Msg, tcp bool) *dns.Msg {
	t.Helper()
	pkt, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out := h.Respond(make([]byte, 0, maxMessageSize), pkt, testClient, tcp)
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatalf("reply does not decode: %v", err)
	}
	return r
}

// validator checks answers the way a validating resolver does, from a
// trust anchor (the parent's DS set) down.
type validator struct {
	t    testing.TB
	now  time.Time
	ds   []*dns.DS
	keys []*dns.DNSKEY
}

// trust fetches the DNSKEY set and accepts it when a key matching a DS
// signs it.
func (v *validator) trust(h *Handler) {
	v.t.Helper()
	r := ask(v.t, h, doQuery(signedOrigin, dns.TypeDNSKEY, 4096), true)
	v.trustKeys(r)
}

func (v *validator) trustKeys(r *dns.Msg) {
	v.t.Helper()
	var keys []*dns.DNSKEY
	var set []dns.RR
	for _, rr := range r.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			keys = append(keys, k)
			set = append(set, k)
		}
	}
	for _, rr := range r.Answer {
		sig, ok := rr.(*dns.RRSIG)
		if !ok {
			continue
		}
		for _, k := range keys {
			for _, ds := range v.ds {
				if k.KeyTag() == sig.KeyTag && strings.EqualFold(k.ToDS(ds.DigestType).Digest, ds.Digest) &&
					sig.Verify(k, set) == nil && sig.ValidityPeriod(v.now) {
					v.keys = keys
					return
				}
			}
		}
	}
	v.t.Fatalf("DNSKEY set is not signed by a key of the DS set %v:\n%v", v.ds, r)
}

// check verifies that every RRset of the answer and authority sections
// (but a referral's NS) carries a valid signature by a trusted key.
func (v *validator) check(r *dns.Msg) {
	v.t.Helper()
	for _, sec := range [][]dns.RR{r.Answer, r.Ns} {
		sets := map[[2]string][]dns.RR{}
		sigs := map[[2]string][]*dns.RRSIG{}
		for _, rr := range sec {
			name := strings.ToLower(rr.Header().Name)
			if sig, ok := rr.(*dns.RRSIG); ok {
				k := [2]string{name, dns.TypeToString[sig.TypeCovered]}
				sigs[k] = append(sigs[k], sig)
				continue
			}
			if rr.Header().Rrtype == dns.TypeNS && !r.Authoritative {
				continue
			}
			k := [2]string{name, dns.TypeToString[rr.Header().Rrtype]}
			sets[k] = append(sets[k], rr)
		}
		for k, set := range sets {
			ok := false
			for _, sig := range sigs[k] {
				if sig.Hdr.Ttl > sig.OrigTtl || set[0].Header().Ttl > sig.OrigTtl {
					v.t.Errorf("%v: TTL %d above the signature's original TTL %d", k, set[0].Header().Ttl, sig.OrigTtl)
				}
				for _, key := range v.keys {
					if key.KeyTag() == sig.KeyTag && sig.Verify(key, set) == nil && sig.ValidityPeriod(v.now) {
						ok = true
					}
				}
			}
			if !ok {
				v.t.Errorf("%v: no valid signature in\n%v", k, r)
			}
		}
	}
}

func canon(a, b string) bool { return canonicalLess(strings.ToLower(a), strings.ToLower(b)) }

// covers tells whether nsec proves name absent: it lies strictly between
// the owner and the next name (the last record wraps to the apex).
func covers(nsec *dns.NSEC, name string) bool {
	owner, next := nsec.Hdr.Name, nsec.NextDomain
	if canon(owner, next) {
		return canon(owner, name) && canon(name, next)
	}
	return canon(owner, name)
}

func nsecs(r *dns.Msg) []*dns.NSEC {
	var out []*dns.NSEC
	for _, rr := range r.Ns {
		if n, ok := rr.(*dns.NSEC); ok {
			out = append(out, n)
		}
	}
	return out
}

// proveNX checks an NXDOMAIN's proof: name and the wildcard at its
// closest encloser ce are both covered.
func proveNX(t testing.TB, r *dns.Msg, name, ce string) {
	t.Helper()
	var nameOK, wildOK bool
	for _, n := range nsecs(r) {
		nameOK = nameOK || covers(n, name)
		wildOK = wildOK || covers(n, "*."+ce)
	}
	if r.Rcode != dns.RcodeNameError || !nameOK || !wildOK {
		t.Errorf("%s: NXDOMAIN proof incomplete (name %v, wildcard *.%s %v):\n%v", name, nameOK, ce, wildOK, r)
	}
}

// proveNoData checks a NODATA's proof: the NSEC at name lacks the type
// (and CNAME), or name is an empty non-terminal: covered by an NSEC whose
// next name is below it.
func proveNoData(t testing.TB, r *dns.Msg, name string, qtype uint16) {
	t.Helper()
	ok := false
	for _, n := range nsecs(r) {
		if strings.EqualFold(n.Hdr.Name, name) {
			ok = true
			for _, typ := range n.TypeBitMap {
				if typ == qtype || typ == dns.TypeCNAME {
					ok = false
				}
			}
		}
		if covers(n, name) && dns.IsSubDomain(name, n.NextDomain) {
			ok = true
		}
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || !ok {
		t.Errorf("%s %s: NODATA proof missing:\n%v", name, dns.TypeToString[qtype], r)
	}
}

func parentDS(t testing.TB, keys string) []*dns.DS {
	t.Helper()
	ks, problems := zones.ReadKeys(keys, signedOrigin)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var out []*dns.DS
	for _, k := range ks {
		if k.SEP() {
			out = append(out, k.DNSKEY.ToDS(dns.SHA256))
		}
	}
	return out
}

// TestSignedAnswersValidate asks a signed zone every kind of question with
// DO=1 and validates each answer from the DS down, both algorithms.
func TestSignedAnswersValidate(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		t.Run(dns.AlgorithmToString[alg], func(t *testing.T) {
			keys := cskDir(t, alg)
			h, _ := clockHandler(t, signedPolicy(t, keys), nil)
			v := &validator{t: t, now: time.Now(), ds: parentDS(t, keys)}
			v.trust(h)
			for _, tc := range []struct {
				name  string
				qtype uint16
			}{
				{"stream.live.example.com.", dns.TypeA}, {"Stream.LIVE.example.com.", dns.TypeAAAA},
				{"one.live.example.com.", dns.TypeHTTPS}, {"player.live.example.com.", dns.TypeA},
				{"www.live.example.com.", dns.TypeA}, {"alias.live.example.com.", dns.TypeA},
				{"live.example.com.", dns.TypeSOA}, {"live.example.com.", dns.TypeNS},
				{"live.example.com.", dns.TypeTXT}, {"live.example.com.", dns.TypeMX},
				{"live.example.com.", dns.TypeCDS}, {"live.example.com.", dns.TypeCDNSKEY},
				{"big.live.example.com.", dns.TypeTXT}, {"live.example.com.", dns.TypeNSEC},
			} {
				r := ask(t, h, doQuery(tc.name, tc.qtype, 4096), false)
				if r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 || !r.IsEdns0().Do() {
					t.Errorf("%s %s: %v", tc.name, dns.TypeToString[tc.qtype], r)
				}
				v.check(r)
			}
			for _, tc := range []struct{ name, ce string }{
				{"nope.live.example.com.", signedOrigin}, {"a.b.c.live.example.com.", signedOrigin},
				{"x.deep.live.example.com.", "deep.live.example.com."}, {"x.stream.live.example.com.", "stream.live.example.com."},
				{"zzzz.live.example.com.", signedOrigin}, {"0.live.example.com.", signedOrigin},
			} {
				r := ask(t, h, doQuery(tc.name, dns.TypeA, 4096), false)
				proveNX(t, r, tc.name, tc.ce)
				v.check(r)
			}
			for _, tc := range []struct {
				name  string
				qtype uint16
			}{
				{"player.live.example.com.", dns.TypeAAAA}, {"live.example.com.", dns.TypeA},
				{"deep.live.example.com.", dns.TypeA}, // an empty non-terminal
				{"sub.live.example.com.", dns.TypeDS}, // no DS at the cut
				{"ns1.live.example.com.", dns.TypeTXT},
			} {
				r := ask(t, h, doQuery(tc.name, tc.qtype, 4096), false)
				proveNoData(t, r, tc.name, tc.qtype)
				v.check(r)
			}
			// A referral: unsigned NS, the NSEC at the cut without DS.
			r := ask(t, h, doQuery("www.sub.live.example.com.", dns.TypeA, 4096), false)
			if r.Authoritative || len(r.Ns) == 0 {
				t.Fatalf("referral: %v", r)
			}
			proveNoData(t, r, "sub.live.example.com.", dns.TypeDS)
			for _, rr := range r.Ns {
				if sig, ok := rr.(*dns.RRSIG); ok && sig.TypeCovered == dns.TypeNS {
					t.Errorf("the referral's NS is signed: %v", sig)
				}
			}
			v.check(r)
			// The steered answer's signature has the policy TTL as its
			// original TTL.
			r = ask(t, h, doQuery("stream.live.example.com.", dns.TypeA, 4096), false)
			if len(r.Answer) != 2 || r.Answer[1].(*dns.RRSIG).OrigTtl != 20 || r.Answer[0].Header().Ttl != 20 {
				t.Errorf("steered answer: %v", r.Answer)
			}
		})
	}
}

// TestDOZeroAnswersAsUnsigned: without DO, a signed zone answers every
// question byte for byte as the same zone unsigned (the key sets and
// NSEC aside, which only a signed zone has).
func TestDOZeroAnswersAsUnsigned(t *testing.T) {
	signed, _ := clockHandler(t, signedPolicy(t, cskDir(t, dns.ECDSAP256SHA256)), nil)
	plain := testHandler(t)
	pkts := fastSeeds(t)
	for _, name := range []string{"live.example.com.", "nope.live.example.com.", "deep.live.example.com.", "www.sub.live.example.com.", "sub.live.example.com.", "alias.live.example.com."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeSOA, dns.TypeNS, dns.TypeDS, dns.TypeMX, dns.TypeANY} {
			for _, edns := range []bool{false, true} {
				q := new(dns.Msg)
				q.SetQuestion(name, qt)
				if edns {
					q.SetEdns0(1232, false)
				}
				pkt, _ := q.Pack()
				pkts = append(pkts, pkt)
			}
		}
	}
	n := 0
	for _, pkt := range pkts {
		var m dns.Msg
		m.Unpack(pkt)
		if opt := m.IsEdns0(); opt != nil && opt.Do() {
			continue
		}
		for _, tcp := range []bool{false, true} {
			a := signed.Respond(make([]byte, 0, maxMessageSize), pkt, testClient, tcp)
			b := plain.Respond(make([]byte, 0, maxMessageSize), pkt, testClient, tcp)
			if !bytes.Equal(a, b) {
				t.Errorf("%v (tcp %v): signed zone answers DO=0 differently\nsigned   %x\nunsigned %x", m.Question[0], tcp, a, b)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("compared only %d answers", n)
	}
}

// doSeeds are DO=1 queries for the fast-path tests.
func doSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, pkt := range fastSeeds(t) {
		var m dns.Msg
		if err := m.Unpack(pkt); err != nil {
			t.Fatal(err)
		}
		if m.IsEdns0() == nil {
			m.SetEdns0(1232, true)
		}
		m.IsEdns0().SetDo()
		p, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// TestFastPathSignsSteeredAnswers: the fast path answers DO=1 steered,
// static and NXDOMAIN queries of a signed zone with the very bytes the
// general path writes, and allocates nothing doing so.
func TestFastPathSignsSteeredAnswers(t *testing.T) {
	h, _ := clockHandler(t, signedPolicy(t, cskDir(t, dns.ECDSAP256SHA256)), nil)
	st := h.State()
	buf := make([]byte, 0, maxMessageSize)
	took := 0
	for _, pkt := range doSeeds(t) {
		var m dns.Msg
		m.Unpack(pkt)
		name := strings.ToLower(m.Question[0].Name)
		fast, ok := h.fast(make([]byte, 0, 4096), pkt, testClient, st, time.Time{})
		if strings.HasSuffix(name, "."+signedOrigin) && (strings.HasPrefix(name, "stream.") || strings.HasPrefix(name, "one.")) {
			if !ok {
				t.Errorf("%v: fast path declined a signed steered query", m.Question[0])
				continue
			}
			var r dns.Msg
			if err := r.Unpack(fast); err != nil || len(r.Answer) != 2 || r.Answer[1].Header().Rrtype != dns.TypeRRSIG {
				t.Errorf("%v: %v %v", m.Question[0], &r, err)
			}
			took++
			allocs := testing.AllocsPerRun(200, func() { h.Respond(buf, pkt, testClient, false) })
			if allocs != 0 {
				t.Errorf("%v: %v allocations per signed answer, want 0", m.Question[0], allocs)
			}
		}
		switch m.Question[0].Name + dns.TypeToString[m.Question[0].Qtype] {
		case "player.live.example.com.A", "nope.live.example.com.A", "a.b.c.d.live.example.com.TXT":
			// Signed static answers and NXDOMAIN below the apex are
			// prepared too.
			if !ok {
				t.Errorf("%v: fast path declined a signed query", m.Question[0])
				continue
			}
			took++
			if allocs := testing.AllocsPerRun(200, func() { h.Respond(buf, pkt, testClient, false) }); allocs != 0 {
				t.Errorf("%v: %v allocations per signed answer, want 0", m.Question[0], allocs)
			}
		}
		if !ok {
			continue
		}
		slow := h.general(make([]byte, 0, 4096), pkt, testClient, false, st, time.Now())
		if !bytes.Equal(fast, slow) {
			t.Errorf("%v: fast and general paths differ\nfast    %x\ngeneral %x", m.Question[0], fast, slow)
		}
	}
	if took == 0 {
		t.Fatal("no signed steered query was tried")
	}
}

// TestTwoInstancesAnswerAlike: two servers with the same keys and policy,
// signing at different moments of one validity period, give the same
// bytes — for ECDSA (RFC 6979) as for Ed25519.
func TestTwoInstancesAnswerAlike(t *testing.T) {
	for _, alg := range []uint8{dns.ECDSAP256SHA256, dns.ED25519} {
		keys := cskDir(t, alg)
		policy := signedPolicy(t, keys)
		t1 := time.Date(2030, 3, 1, 10, 0, 0, 0, time.UTC)
		t2 := t1.Add(7 * time.Hour)
		a, _ := clockHandler(t, policy, &t1)
		b, _ := clockHandler(t, policy, &t2)
		for _, q := range []*dns.Msg{
			doQuery("stream.live.example.com.", dns.TypeA, 1232), doQuery("live.example.com.", dns.TypeDNSKEY, 1232),
			doQuery("nope.live.example.com.", dns.TypeA, 1232), doQuery("player.live.example.com.", dns.TypeA, 1232),
		} {
			pkt, _ := q.Pack()
			for _, tcp := range []bool{false, true} {
				x := a.Respond(make([]byte, 0, maxMessageSize), pkt, testClient, tcp)
				y := b.Respond(make([]byte, 0, maxMessageSize), pkt, testClient, tcp)
				if !bytes.Equal(x, y) {
					t.Errorf("alg %d %v: instances differ\n%x\n%x", alg, q.Question[0], x, y)
				}
			}
		}
	}
}

// TestExpiredSignaturesAreWithheld drives the signer's clock past the
// signatures' expiry without letting it sign again: DO=1 answers become
// SERVFAIL (never an expired signature), DO=0 answers go on, and signing
// again restores them.
func TestExpiredSignaturesAreWithheld(t *testing.T) {
	keys := cskDir(t, dns.ECDSAP256SHA256)
	clock := time.Date(2030, 3, 1, 10, 0, 0, 0, time.UTC)
	h, reg := clockHandler(t, signedPolicy(t, keys), &clock)
	expiry := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "cdnsteer_dnssec_signature_expiry_seconds" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("no cdnsteer_dnssec_signature_expiry_seconds")
		return 0
	}
	if e := expiry(); e < (336 * time.Hour * 3 / 4).Seconds() {
		t.Errorf("fresh signatures expire in %vs", e)
	}
	queries := []*dns.Msg{doQuery("stream.live.example.com.", dns.TypeA, 1232), doQuery("nope.live.example.com.", dns.TypeA, 1232), doQuery("player.live.example.com.", dns.TypeA, 1232)}
	for _, q := range queries {
		if r := ask(t, h, q, false); r.Rcode == dns.RcodeServerFailure {
			t.Fatalf("fresh: %v", r)
		}
	}
	clock = clock.Add(15 * 24 * time.Hour)
	if e := expiry(); e > 0 {
		t.Errorf("metric says %vs left after the expiry", e)
	}
	for _, q := range queries {
		for _, tcp := range []bool{false, true} {
			r := ask(t, h, q, tcp)
			if r.Rcode != dns.RcodeServerFailure || len(r.Answer)+len(r.Ns) != 0 {
				t.Errorf("%v after expiry (tcp %v): %v", q.Question[0], tcp, r)
			}
		}
		plain := q.Copy()
		plain.IsEdns0().SetDo(false)
		if r := ask(t, h, plain, false); r.Rcode == dns.RcodeServerFailure {
			t.Errorf("DO=0 %v after expiry: %v", q.Question[0], r)
		}
	}
	h.resign()
	v := &validator{t: t, now: clock, ds: parentDS(t, keys)}
	v.trust(h)
	for _, q := range queries {
		v.check(ask(t, h, q, false))
	}
}

// TestSignedTruncationAndTCP: a signed NXDOMAIN fits 512 bytes unsigned
// but not signed; over real UDP it comes truncated, over real TCP whole
// and validating.
func TestSignedTruncationAndTCP(t *testing.T) {
	keys := cskDir(t, dns.ECDSAP256SHA256)
	h, _ := clockHandler(t, signedPolicy(t, keys), nil)
	s, err := Listen([]netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, h, Options{UDPSockets: 1, TCPIdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	addr := s.Addrs()[0].String()
	udp := &dns.Client{Net: "udp", Timeout: 2 * time.Second, UDPSize: 512}
	tcp := &dns.Client{Net: "tcp", Timeout: 2 * time.Second}
	q := doQuery("mzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.live.example.com.", dns.TypeA, 512)
	plain := q.Copy()
	plain.IsEdns0().SetDo(false)
	if r, _, err := udp.Exchange(plain, addr); err != nil || r.Truncated || r.Rcode != dns.RcodeNameError {
		t.Fatalf("DO=0 over UDP: %v %v", r, err)
	}
	r, _, err := tcp.Exchange(q, addr)
	if err != nil || r.Truncated || r.Len() <= 512 {
		t.Fatalf("DO=1 over TCP: %v %v (a test needs more than 512 bytes)", r, err)
	}
	v := &validator{t: t, now: time.Now(), ds: parentDS(t, keys)}
	v.trust(h)
	proveNX(t, r, q.Question[0].Name, signedOrigin)
	v.check(r)
	r, _, err = udp.Exchange(q, addr)
	if err != nil || !r.Truncated {
		t.Fatalf("DO=1 over UDP at 512 bytes: %v %v; want TC", r, err)
	}
	// The steered answer, signed, fits 512 bytes and comes whole.
	r, _, err = udp.Exchange(doQuery("stream.live.example.com.", dns.TypeA, 512), addr)
	if err != nil || r.Truncated || len(r.Answer) != 2 {
		t.Fatalf("signed steered answer over UDP: %v %v", r, err)
	}
	v.check(r)
}
