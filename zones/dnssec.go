package zones

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSSECConfig is [zone.dnssec]: the zone is signed with the BIND-format
// keys in Keys, each signature valid for SignatureValidity.
type DNSSECConfig struct {
	Keys              string         `toml:"keys"`
	SignatureValidity *time.Duration `toml:"signature_validity"`
}

// DefaultSignatureValidity is how long a signature is valid when
// signature_validity is not set: BIND's default, two weeks.
const DefaultSignatureValidity = 336 * time.Hour

// Bounds of signature_validity. Signatures are refreshed every quarter of
// it, so under four hours a stalled signer leaves no time to notice; over
// 90 days a stolen signature replays for months.
const (
	minSignatureValidity = 4 * time.Hour
	maxSignatureValidity = 90 * 24 * time.Hour
)

// Signing is a zone's keys and signature policy. The keys' timing decides
// which of them are published and which sign at any moment, so the set
// changes over time without a new snapshot.
type Signing struct {
	Dir      string
	Validity time.Duration
	Keys     []*Key // by key tag, then algorithm
}

// Key is one key pair with its BIND timing metadata. A zero time is unset.
type Key struct {
	// File is the public half's path; the private half is beside it.
	File   string
	DNSKEY *dns.DNSKEY
	// Signer signs deterministically, so that two servers with the same
	// keys sign alike.
	Signer                              crypto.Signer
	Publish, Activate, Inactive, Delete time.Time
}

// Name is the key's BIND base name, K<zone>+<alg>+<tag>.
func (k *Key) Name() string {
	return fmt.Sprintf("K%s+%03d+%05d", k.DNSKEY.Hdr.Name, k.DNSKEY.Algorithm, k.DNSKEY.KeyTag())
}

// SEP tells whether the key has the secure entry point flag (257): it
// signs the key sets, and its DS goes to the parent.
func (k *Key) SEP() bool { return k.DNSKEY.Flags&dns.SEP != 0 }

func reached(at, t time.Time) bool { return !at.IsZero() && !t.Before(at) }

// Published tells whether the key is in the zone's DNSKEY set at t: from
// Publish (or, without one, Activate: a key that signs must be
// published) until Delete.
func (k *Key) Published(t time.Time) bool {
	return (reached(k.Publish, t) || reached(k.Activate, t)) && !reached(k.Delete, t)
}

// Active tells whether the key signs at t: from Activate until Inactive
// (or Delete). A key without Activate never signs, as in BIND.
func (k *Key) Active(t time.Time) bool {
	return reached(k.Activate, t) && !reached(k.Inactive, t) && !reached(k.Delete, t)
}

// Published returns the keys in the DNSKEY set at t.
func (s *Signing) Published(t time.Time) []*Key {
	var out []*Key
	for _, k := range s.Keys {
		if k.Published(t) {
			out = append(out, k)
		}
	}
	return out
}

// Signers returns the keys that sign at t: ksk signs the DNSKEY, CDS and
// CDNSKEY sets, zsk everything else. Per algorithm (so that an algorithm
// rollover signs with both), the active SEP keys are KSKs and the other
// active keys ZSKs; an algorithm with keys of only one kind uses them for
// both (a lone 257 key is a CSK).
func (s *Signing) Signers(t time.Time) (ksk, zsk []*Key) {
	byAlg := map[uint8][2][]*Key{}
	var algs []uint8
	for _, k := range s.Keys {
		if !k.Active(t) {
			continue
		}
		a := k.DNSKEY.Algorithm
		v, seen := byAlg[a]
		if !seen {
			algs = append(algs, a)
		}
		if k.SEP() {
			v[0] = append(v[0], k)
		} else {
			v[1] = append(v[1], k)
		}
		byAlg[a] = v
	}
	sort.Slice(algs, func(i, j int) bool { return algs[i] < algs[j] })
	for _, a := range algs {
		v := byAlg[a]
		switch {
		case len(v[0]) == 0:
			v[0] = v[1]
		case len(v[1]) == 0:
			v[1] = v[0]
		}
		ksk = append(ksk, v[0]...)
		zsk = append(zsk, v[1]...)
	}
	return ksk, zsk
}

// NextEvent is the first moment after t at which a key's timing changes
// what is published or what signs; zero when none is ahead.
func (s *Signing) NextEvent(t time.Time) time.Time {
	var next time.Time
	for _, k := range s.Keys {
		for _, at := range []time.Time{k.Publish, k.Activate, k.Inactive, k.Delete} {
			if at.After(t) && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
	}
	return next
}

// Window is the validity of signatures made at t, aligned to fixed
// boundaries so that two servers signing at different moments of the
// same period make the same signatures: periods of a quarter of the
// validity, counted from the Unix epoch. The signatures of a period are
// valid from an hour before it starts (for clocks behind) until validity
// after; refresh is when the next period starts, by which time three
// quarters of the validity are still ahead.
func (s *Signing) Window(t time.Time) (inception, expiration, refresh time.Time) {
	period := int64(s.Validity/4) / int64(time.Second)
	period -= period % 60
	start := t.Unix() / period * period
	inception = time.Unix(start-3600, 0)
	expiration = time.Unix(start, 0).Add(s.Validity)
	return inception, expiration, time.Unix(start+period, 0)
}

// dnssec reads a zone's [zone.dnssec]: every key pair in the folder, each
// checked against the zone, and the zone must have a key active now.
func (c *compiler) dnssec(at string, dc *DNSSECConfig, z *Zone) {
	if dc == nil {
		return
	}
	at += ".dnssec"
	s := &Signing{Validity: DefaultSignatureValidity}
	if v := dc.SignatureValidity; v != nil {
		if *v < minSignatureValidity || *v > maxSignatureValidity {
			c.el.Add(at+".signature_validity", "zone %s: signature_validity %s is outside %s..%s", z.Origin, *v, minSignatureValidity, maxSignatureValidity)
			return
		}
		s.Validity = *v
	}
	if dc.Keys == "" {
		c.el.Add(at, "zone %s: dnssec.keys is missing: name the folder of the zone's key pairs (cdnsteer keygen writes one)", z.Origin)
		return
	}
	s.Dir = c.path(dc.Keys)
	keys, problems := ReadKeys(s.Dir, z.Origin)
	for _, p := range problems {
		c.el.Add(at+".keys", "zone %s: %s", z.Origin, p)
	}
	if len(problems) > 0 {
		return
	}
	s.Keys = keys
	now := time.Now()
	if ksk, _ := s.Signers(now); len(ksk) == 0 {
		var why []string
		for _, k := range keys {
			switch {
			case k.Activate.IsZero():
				why = append(why, k.Name()+" has no Activate time")
			case !reached(k.Activate, now):
				why = append(why, fmt.Sprintf("%s activates at %s", k.Name(), k.Activate.UTC().Format(time.RFC3339)))
			case reached(k.Delete, now):
				why = append(why, fmt.Sprintf("%s was deleted at %s", k.Name(), k.Delete.UTC().Format(time.RFC3339)))
			default:
				why = append(why, fmt.Sprintf("%s is inactive since %s", k.Name(), k.Inactive.UTC().Format(time.RFC3339)))
			}
		}
		if len(why) == 0 {
			why = append(why, "the folder holds no K*.key file")
		}
		c.el.Add(at+".keys", "zone %s: no key in %s is active now (%s): the zone cannot be signed", z.Origin, s.Dir, strings.Join(why, "; "))
		return
	}
	z.DNSSEC = s
}

// ReadKeys reads every BIND key pair (K*.key beside K*.private) in dir
// for zone origin. It returns the keys, or what is wrong with each file
// that is not a usable key of that zone.
func ReadKeys(dir, origin string) ([]*Key, []string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []string{fmt.Sprintf("keys folder: %v", err)}
	}
	var keys []*Key
	var problems []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "K") || !strings.HasSuffix(name, ".key") {
			continue
		}
		k, err := readKey(filepath.Join(dir, name), origin)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i].DNSKEY, keys[j].DNSKEY
		if a.KeyTag() != b.KeyTag() {
			return a.KeyTag() < b.KeyTag()
		}
		return a.Algorithm < b.Algorithm
	})
	return keys, problems
}

// readKey reads one key pair and checks that its halves belong together.
func readKey(pub, origin string) (*Key, error) {
	data, err := os.ReadFile(pub)
	if err != nil {
		return nil, err
	}
	zp := dns.NewZoneParser(strings.NewReader(string(data)), origin, pub)
	rr, ok := zp.Next()
	if err := zp.Err(); err != nil || !ok {
		return nil, fmt.Errorf("%s: not a DNSKEY record%s", pub, colon(err))
	}
	key, isKey := rr.(*dns.DNSKEY)
	if !isKey {
		return nil, fmt.Errorf("%s: holds a %s record, not a DNSKEY", pub, dns.TypeToString[rr.Header().Rrtype])
	}
	if owner := strings.ToLower(key.Hdr.Name); owner != origin {
		return nil, fmt.Errorf("%s: the key is for zone %s, not %s", pub, owner, origin)
	}
	key.Hdr.Name = origin
	switch {
	case key.Algorithm != dns.ECDSAP256SHA256 && key.Algorithm != dns.ED25519:
		return nil, fmt.Errorf("%s: algorithm %d (%s) is not supported (use 13, ECDSAP256SHA256, or 15, ED25519)", pub, key.Algorithm, dns.AlgorithmToString[key.Algorithm])
	case key.Protocol != 3 || key.Flags&dns.ZONE == 0 || key.Flags&dns.REVOKE != 0:
		return nil, fmt.Errorf("%s: flags %d: not a zone key (256 or 257)", pub, key.Flags)
	}
	priv := strings.TrimSuffix(pub, ".key") + ".private"
	f, err := os.Open(priv)
	if err != nil {
		return nil, fmt.Errorf("%s: private key: %v", pub, err)
	}
	defer f.Close()
	pk, err := key.ReadPrivateKey(f, priv)
	if err != nil {
		return nil, fmt.Errorf("%s: unreadable: %v", priv, err)
	}
	k := &Key{File: pub, DNSKEY: key}
	switch pk := pk.(type) {
	case *ecdsa.PrivateKey:
		k.Signer = rfc6979{pk}
	case ed25519.PrivateKey:
		k.Signer = pk
	default:
		return nil, fmt.Errorf("%s: not a key of the DNSKEY's algorithm", priv)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %v", priv, err)
	}
	if err := k.readTiming(f, priv); err != nil {
		return nil, err
	}
	if err := k.selfTest(); err != nil {
		return nil, fmt.Errorf("%s: does not match %s: %v", priv, pub, err)
	}
	return k, nil
}

// readTiming reads the BIND timing metadata of a .private file
// ("Activate: 20250101000000"), which dnssec-settime edits.
func (k *Key) readTiming(r io.Reader, file string) error {
	fields := map[string]*time.Time{"Publish": &k.Publish, "Activate": &k.Activate, "Inactive": &k.Inactive, "Delete": &k.Delete}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		name, value, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		t, err := time.Parse("20060102150405", strings.TrimSpace(value))
		if err != nil {
			return fmt.Errorf("%s:%d: %s: %q is not a time (YYYYMMDDHHMMSS, UTC)", file, line, name, strings.TrimSpace(value))
		}
		*dst = t
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	if !k.Activate.IsZero() && !k.Inactive.IsZero() && !k.Inactive.After(k.Activate) {
		return fmt.Errorf("%s: Inactive %s is not after Activate %s", file, k.Inactive.Format(time.RFC3339), k.Activate.Format(time.RFC3339))
	}
	return nil
}

// selfTest signs a record with the private half and checks the signature
// with the public one: the library takes an ECDSA key's public point from
// the DNSKEY without checking it against the private scalar.
func (k *Key) selfTest() error {
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: k.DNSKEY.Hdr.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{"cdnsteer"}}
	sig := &dns.RRSIG{Algorithm: k.DNSKEY.Algorithm, KeyTag: k.DNSKEY.KeyTag(), SignerName: k.DNSKEY.Hdr.Name, Expiration: 1, Inception: 0}
	if err := sig.Sign(k.Signer, []dns.RR{rr}); err != nil {
		return err
	}
	return sig.Verify(k.DNSKEY, []dns.RR{rr})
}

func colon(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// rfc6979 signs with ECDSA deterministically (RFC 6979): Go's ECDSA does
// so when given no random source, and the DNS library always gives one.
type rfc6979 struct{ *ecdsa.PrivateKey }

func (k rfc6979) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return k.PrivateKey.Sign(nil, digest, opts)
}
