package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestKeygenThenCheckPrintsTheDS: a key from keygen signs the zone that
// check accepts, and both print the same DS for the parent; a key folder
// of another zone is refused at the line of keys.
func TestKeygenThenCheckPrintsTheDS(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"keygen", "-zone", "Live.Example.com", "-dir", filepath.Join(dir, "keys")}, &out, &errb); code != 0 {
		t.Fatalf("keygen: %d %s", code, errb.String())
	}
	ds := regexp.MustCompile(`(?m)^live\.example\.com\. IN DS \d+ 13 2 [0-9a-f]{64}$`).FindString(out.String())
	if ds == "" {
		t.Fatalf("keygen printed no DS:\n%s", out.String())
	}
	policy := `[cdn.a]
target = "a.example.net."
[policy.p.region.default]
weights = { a = 1 }
[[zone]]
origin = "live.example.com."
ns = ["ns1.example.net."]
[[zone.steer]]
name = "stream"
policy = "p"
[zone.dnssec]
keys = "keys"
`
	path := filepath.Join(dir, "policy.toml")
	os.WriteFile(path, []byte(policy), 0o644)
	out.Reset()
	if code := run([]string{"check", "-config", path}, &out, &errb); code != 0 {
		t.Fatalf("check: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "  DS "+ds+"\n") || !strings.Contains(out.String(), "(KSK): active") {
		t.Errorf("check does not print the key and its DS %q:\n%s", ds, out.String())
	}
	other := strings.Replace(policy, "live.example.com.", "other.example.com.", 1)
	os.WriteFile(path, []byte(other), 0o644)
	errb.Reset()
	if code := run([]string{"check", "-config", path}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "policy.toml:12: zone other.example.com.: ") || !strings.Contains(errb.String(), "the key is for zone live.example.com.") {
		t.Errorf("check with another zone's key: %d %s", code, errb.String())
	}
}
