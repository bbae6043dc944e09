package zones

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// KeyTiming is the BIND timing metadata of a key; zero times are unset.
type KeyTiming struct {
	Publish, Activate, Inactive, Delete time.Time
}

// GenerateKey makes a key pair for origin — algorithm 13 or 15, with the
// SEP flag (a KSK, or alone a CSK) when sep — and writes it into dir as
// dnssec-keygen does: K<zone>+<alg>+<tag>.key and .private, the timing in
// the private file where dnssec-settime keeps it. It returns the public
// file's path.
func GenerateKey(dir, origin string, alg uint8, sep bool, created time.Time, timing KeyTiming) (string, *dns.DNSKEY, error) {
	origin = dns.CanonicalName(origin)
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: dns.ZONE, Protocol: 3, Algorithm: alg}
	if sep {
		key.Flags |= dns.SEP
	}
	bits := 256
	if alg != dns.ECDSAP256SHA256 && alg != dns.ED25519 {
		return "", nil, fmt.Errorf("algorithm %d is not supported (13 or 15)", alg)
	}
	priv, err := key.Generate(bits)
	if err != nil {
		return "", nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("K%s+%03d+%05d", origin, alg, key.KeyTag()))
	stamp := func(t time.Time) string { return t.UTC().Format("20060102150405") }
	kind := "zone-signing"
	if sep {
		kind = "key-signing"
	}
	var pub, sec strings.Builder
	fmt.Fprintf(&pub, "; This is a %s key, keyid %d, for %s\n", kind, key.KeyTag(), origin)
	sec.WriteString(key.PrivateKeyString(priv))
	fmt.Fprintf(&sec, "Created: %s\n", stamp(created))
	for _, f := range []struct {
		name string
		at   time.Time
	}{{"Created", created}, {"Publish", timing.Publish}, {"Activate", timing.Activate}, {"Inactive", timing.Inactive}, {"Delete", timing.Delete}} {
		if f.at.IsZero() {
			continue
		}
		fmt.Fprintf(&pub, "; %s: %s (%s)\n", f.name, stamp(f.at), f.at.UTC().Format(time.ANSIC))
		if f.name != "Created" {
			fmt.Fprintf(&sec, "%s: %s\n", f.name, stamp(f.at))
		}
	}
	fmt.Fprintf(&pub, "%s IN DNSKEY %d %d %d %s\n", origin, key.Flags, key.Protocol, key.Algorithm, key.PublicKey)
	// The private half first: a reader that sees the public file finds
	// its pair.
	if err := os.WriteFile(base+".private", []byte(sec.String()), 0o600); err != nil {
		return "", nil, err
	}
	if err := os.WriteFile(base+".key", []byte(pub.String()), 0o644); err != nil {
		return "", nil, err
	}
	return base + ".key", key, nil
}
