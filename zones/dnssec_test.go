package zones

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// signedPolicy writes a policy whose zone z.example. is signed with the
// keys in dir/keys (line 15 is the keys line) and loads it.
func signedPolicy(t *testing.T, dir string) (*Snapshot, error) {
	t.Helper()
	doc := base + zoneHead + "[zone.dnssec]\nkeys = \"keys\"\n"
	path := filepath.Join(dir, "policy.toml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

func TestSignedZoneLoads(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	_, ksk, err := GenerateKey(filepath.Join(dir, "keys"), "z.example.", dns.ECDSAP256SHA256, true, now, KeyTiming{Publish: now.Add(-time.Hour), Activate: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	_, zsk, err := GenerateKey(filepath.Join(dir, "keys"), "z.example.", dns.ED25519, false, now, KeyTiming{Publish: now.Add(-time.Hour), Activate: now.Add(-time.Hour), Inactive: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := signedPolicy(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	s := snap.Zones[0].DNSSEC
	if s == nil || len(s.Keys) != 2 || s.Validity != DefaultSignatureValidity {
		t.Fatalf("signing = %+v", s)
	}
	k, z := s.Signers(now)
	if len(k) != 2 || len(z) != 2 {
		// Two algorithms: each signs everything, its SEP key the key sets.
		t.Errorf("signers now: %d KSK, %d ZSK; want 2 and 2", len(k), len(z))
	}
	k, z = s.Signers(now.Add(2 * time.Hour))
	if len(k) != 1 || len(z) != 1 || k[0].DNSKEY.KeyTag() != ksk.KeyTag() || z[0] != k[0] {
		t.Errorf("after the ZSK's Inactive the KSK is a CSK: %v %v", k, z)
	}
	if got := s.NextEvent(now); !got.Equal(now.Add(time.Hour).Truncate(time.Second).UTC()) {
		t.Errorf("next event %v, want the ZSK's Inactive", got)
	}
	_ = zsk
	inc, exp, refresh := s.Window(now)
	inc2, exp2, _ := s.Window(refresh.Add(-time.Second))
	if !inc.Equal(inc2) || !exp.Equal(exp2) || exp.Sub(refresh) < s.Validity*3/4 || !inc.Before(now) {
		t.Errorf("window %v..%v refresh %v; later in the period %v..%v", inc, exp, refresh, inc2, exp2)
	}
}

func TestKeyProblemsAreReportedAtTheLine(t *testing.T) {
	now := time.Now()
	active := KeyTiming{Publish: now.Add(-time.Hour), Activate: now.Add(-time.Hour)}
	cases := []struct {
		name  string
		setup func(t *testing.T, keys string)
		want  string
	}{
		{"missing folder", func(t *testing.T, keys string) {}, "keys folder: open"},
		{"empty folder", func(t *testing.T, keys string) { os.MkdirAll(keys, 0o755) }, "the folder holds no K*.key file"},
		{"key for another zone", func(t *testing.T, keys string) {
			GenerateKey(keys, "other.example.", dns.ECDSAP256SHA256, true, now, active)
		}, "the key is for zone other.example., not z.example."},
		{"private half missing", func(t *testing.T, keys string) {
			pub, _, _ := GenerateKey(keys, "z.example.", dns.ECDSAP256SHA256, true, now, active)
			os.Remove(strings.TrimSuffix(pub, ".key") + ".private")
		}, "private key: open"},
		{"unreadable private half", func(t *testing.T, keys string) {
			pub, _, _ := GenerateKey(keys, "z.example.", dns.ECDSAP256SHA256, true, now, active)
			os.WriteFile(strings.TrimSuffix(pub, ".key")+".private", []byte("Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: !!!\n"), 0o600)
		}, "unreadable"},
		{"halves of two keys", func(t *testing.T, keys string) {
			pub, _, _ := GenerateKey(keys, "z.example.", dns.ECDSAP256SHA256, true, now, active)
			other, _, _ := GenerateKey(t.TempDir(), "z.example.", dns.ECDSAP256SHA256, true, now, active)
			data, _ := os.ReadFile(strings.TrimSuffix(other, ".key") + ".private")
			os.WriteFile(strings.TrimSuffix(pub, ".key")+".private", data, 0o600)
		}, "does not match"},
		{"never active", func(t *testing.T, keys string) {
			GenerateKey(keys, "z.example.", dns.ECDSAP256SHA256, true, now, KeyTiming{Publish: now})
		}, "has no Activate time"},
		{"only key inactive", func(t *testing.T, keys string) {
			GenerateKey(keys, "z.example.", dns.ECDSAP256SHA256, true, now, KeyTiming{Publish: now.Add(-48 * time.Hour), Activate: now.Add(-48 * time.Hour), Inactive: now.Add(-time.Hour)})
		}, "is inactive since"},
		{"expired (deleted)", func(t *testing.T, keys string) {
			GenerateKey(keys, "z.example.", dns.ED25519, true, now, KeyTiming{Activate: now.Add(-48 * time.Hour), Delete: now.Add(-time.Hour)})
		}, "was deleted at"},
		{"unsupported algorithm", func(t *testing.T, keys string) {
			os.MkdirAll(keys, 0o755)
			os.WriteFile(filepath.Join(keys, "Kz.example.+008+00001.key"), []byte("z.example. IN DNSKEY 257 3 8 AwEAAa==\n"), 0o644)
		}, "algorithm 8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, filepath.Join(dir, "keys"))
			_, err := signedPolicy(t, dir)
			if err == nil {
				t.Fatal("loaded")
			}
			if !strings.Contains(err.Error(), "policy.toml:15: zone z.example.: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want policy.toml:15 and %q", err, tc.want)
			}
		})
	}
}
