package zones

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const dnstapBase = `[cdn.akamai]
target = "a.cdn.example.net."
[policy.p.region.default]
weights = { akamai = 1 }
` + zoneHead

func TestDnstapKeysAndDefaults(t *testing.T) {
	snap, err := Parse("/etc/cdnsteer/p.toml", []byte(dnstapBase+"[dnstap]\nsocket = \"/run/dnstap.sock\"\nsample = 0.01\nrate = 500\nidentity = \"ns1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := snap.Dnstap; d == nil || *d != (Dnstap{Socket: "/run/dnstap.sock", Sample: 0.01, Rate: 500, Identity: "ns1"}) {
		t.Fatalf("dnstap %+v", d)
	}
	dir := t.TempDir()
	snap, err = Parse(filepath.Join(dir, "p.toml"), []byte(dnstapBase+"[dnstap]\nfile = \"q.dnstap\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if d := snap.Dnstap; d == nil || *d != (Dnstap{File: filepath.Join(dir, "q.dnstap"), Sample: DefaultDnstapSample, Rate: DefaultDnstapRate, Identity: host}) {
		t.Fatalf("defaults %+v", d)
	}
	if snap, err := Parse("p.toml", []byte(dnstapBase)); err != nil || snap.Dnstap != nil {
		t.Errorf("without [dnstap]: %+v %v", snap.Dnstap, err)
	}
}

// Each bad [dnstap] key is named at its line.
func TestDnstapErrors(t *testing.T) {
	lines := strings.Count(dnstapBase, "\n")
	at := func(n int) string { return "bad.toml:" + strconv.Itoa(lines+n) + ": " }
	long := "/" + strings.Repeat("s", 120)
	for _, tc := range []struct{ doc, want string }{
		{"[dnstap]\nsample = 0.5\n", at(1) + "dnstap: socket or file is needed"},
		{"[dnstap]\nsocket = \"/run/s\"\nfile = \"/tmp/f\"\n", at(3) + "dnstap: socket and file are exclusive: name one"},
		{"[dnstap]\nsocket = \"" + long + "\"\n", at(2) + `dnstap.socket: "` + long + `" is longer than a Unix socket address allows (107 bytes)`},
		{"[dnstap]\nfile = \"/nonexistent/dir/q.dnstap\"\n", at(2) + `dnstap.file: directory "/nonexistent/dir" does not exist`},
		{"[dnstap]\nsocket = \"/run/s\"\nsample = 0\n", at(3) + "dnstap.sample: 0 is outside (0, 1]"},
		{"[dnstap]\nsocket = \"/run/s\"\nsample = 1.5\n", at(3) + "dnstap.sample: 1.5 is outside (0, 1]"},
		{"[dnstap]\nsocket = \"/run/s\"\nrate = 0\n", at(3) + "dnstap.rate: 0 is outside 1..1000000 messages a second"},
		{"[dnstap]\nsocket = \"/run/s\"\nidentity = \"" + strings.Repeat("x", 256) + "\"\n", at(3) + "dnstap.identity: longer than 255 bytes"},
		{"[dnstap]\nsocket = \"/run/s\"\nsampel = 1\n", at(3) + `unknown key "dnstap.sampel"`},
		{"[dnstap]\nsocket = \"/run/s\"\nrate = \"fast\"\n", ""},
	} {
		_, err := Parse("bad.toml", []byte(dnstapBase+tc.doc))
		if tc.want == "" {
			if err == nil || !strings.HasPrefix(err.Error(), at(3)) {
				t.Errorf("%q: %v, want an error at line %d", tc.doc, err, lines+3)
			}
			continue
		}
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.doc, err, tc.want)
		}
	}
}
