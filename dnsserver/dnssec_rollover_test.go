package dnsserver

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cdnsteer/cdnsteer/zones"
)

// rolloverStep is one moment of a rollover: the signer's clock there.
type rolloverStep struct {
	name string
	at   time.Time
}

// answersAt re-signs at step's time and returns the DNSKEY reply and the
// replies a validator checks.
func answersAt(t *testing.T, h *Handler) (keys *dns.Msg, rest []*dns.Msg) {
	t.Helper()
	h.resign()
	keys = ask(t, h, doQuery(signedOrigin, dns.TypeDNSKEY, 4096), true)
	for _, q := range []*dns.Msg{
		doQuery("stream.live.example.com.", dns.TypeA, 4096), doQuery("nope.live.example.com.", dns.TypeA, 4096),
		doQuery("player.live.example.com.", dns.TypeAAAA, 4096), doQuery(signedOrigin, dns.TypeSOA, 4096),
		doQuery(signedOrigin, dns.TypeCDS, 4096),
	} {
		rest = append(rest, ask(t, h, q, true))
	}
	return keys, rest
}

// TestZSKPrePublishRollover rolls the ZSK the way dnssec-settime sets it
// up (the new key published a TTL before it signs, the old one kept a TTL
// after it stops): at every step the answers validate from the parent's
// DS, and also with the DNSKEY set a resolver cached at the step before.
func TestZSKPrePublishRollover(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	gen := func(sep bool, tm zones.KeyTiming) {
		if _, _, err := zones.GenerateKey(dir, signedOrigin, dns.ECDSAP256SHA256, sep, longAgo, tm); err != nil {
			t.Fatal(err)
		}
	}
	gen(true, zones.KeyTiming{Publish: longAgo, Activate: longAgo})
	gen(false, zones.KeyTiming{Publish: longAgo, Activate: longAgo, Inactive: t0.Add(2 * day), Delete: t0.Add(3 * day)})
	gen(false, zones.KeyTiming{Publish: t0.Add(day), Activate: t0.Add(2 * day)})
	clock := t0
	h, _ := clockHandler(t, signedPolicy(t, dir), &clock)
	ds := parentDS(t, dir)
	var cached []*dns.DNSKEY
	wantKeys := []int{2, 3, 3, 2}
	for i, step := range []rolloverStep{{"before", t0}, {"new ZSK published", t0.Add(day)}, {"new ZSK signs", t0.Add(2 * day)}, {"old ZSK deleted", t0.Add(3 * day)}} {
		clock = step.at.Add(time.Minute)
		keys, rest := answersAt(t, h)
		v := &validator{t: t, now: clock, ds: ds}
		v.trustKeys(keys)
		if len(v.keys) != wantKeys[i] {
			t.Errorf("%s: %d keys published, want %d", step.name, len(v.keys), wantKeys[i])
		}
		for _, r := range rest {
			v.check(r)
		}
		if cached != nil {
			// A resolver that fetched the key set a step ago has not
			// asked again: the new signatures must validate with it.
			old := &validator{t: t, now: clock, ds: ds, keys: cached}
			for _, r := range rest {
				old.check(r)
			}
		}
		cached = v.keys
	}
}

// TestCSKRolloverWithCDS rolls a lone CSK, the parent following the CDS
// set one step behind (as a parent polling with dnssec-cds does): every
// step validates from the DS set the parent holds then.
func TestCSKRolloverWithCDS(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().UTC().Truncate(time.Second)
	day := 24 * time.Hour
	for _, tm := range []zones.KeyTiming{
		{Publish: longAgo, Activate: longAgo, Inactive: t0.Add(3 * day), Delete: t0.Add(4 * day)},
		{Publish: t0.Add(day), Activate: t0.Add(2 * day)},
	} {
		if _, _, err := zones.GenerateKey(dir, signedOrigin, dns.ED25519, true, longAgo, tm); err != nil {
			t.Fatal(err)
		}
	}
	clock := t0
	h, _ := clockHandler(t, signedPolicy(t, dir), &clock)
	all := parentDS(t, dir)
	oldKey, _ := h.State().Snap.Zones[0].DNSSEC.Signers(t0)
	var parent []*dns.DS
	for _, ds := range all {
		if ds.KeyTag == oldKey[0].DNSKEY.KeyTag() {
			parent = append(parent, ds)
		}
	}
	wantCDS := []int{1, 1, 2, 1, 1}
	for i, step := range []rolloverStep{{"before", t0}, {"new CSK published", t0.Add(day)}, {"both sign", t0.Add(2 * day)},
		{"old CSK retired", t0.Add(3 * day)}, {"old CSK deleted", t0.Add(4 * day)}} {
		clock = step.at.Add(time.Minute)
		keys, rest := answersAt(t, h)
		v := &validator{t: t, now: clock, ds: parent}
		v.trustKeys(keys)
		for _, r := range rest {
			v.check(r)
		}
		cdsReply := rest[len(rest)-1]
		var next []*dns.DS
		for _, rr := range cdsReply.Answer {
			if c, ok := rr.(*dns.CDS); ok {
				next = append(next, &c.DS)
			}
		}
		if len(next) != wantCDS[i] {
			t.Errorf("%s: CDS %v, want %d records", step.name, next, wantCDS[i])
		}
		parent = next
	}
}
