package zones

import (
	"os"
	"strings"
	"testing"
)

// TestFleetSection: [fleet] resolves its defaults (bucket, the host name
// as instance); a policy without it, or with nats unset, stands alone;
// each bad key is an error at its FILE:LINE.
func TestFleetSection(t *testing.T) {
	s, err := Parse("p.toml", []byte(sectionBase))
	if err != nil || s.Fleet != nil {
		t.Fatalf("without [fleet]: %+v, %v", s.Fleet, err)
	}
	s, err = Parse("p.toml", []byte(sectionBase+"[fleet]\nnats = [\"nats://127.0.0.1:4222\", \"tls://10.0.0.2:4222\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if f := s.Fleet; f == nil || len(f.NATS) != 2 || f.Bucket != "cdnsteer" || f.Instance != strings.TrimSuffix(host, ".") {
		t.Errorf("fleet = %+v (host %q)", s.Fleet, host)
	}

	doc := sectionBase + "[fleet]\n" +
		"nats = [\"http://127.0.0.1:4222\"]\n" +
		"bucket = \"a.b\"\n" +
		"instance = \"ns 1\"\n" +
		"credentials = \"/nonexistent/fleet.creds\"\n" +
		"gossip = true\n"
	_, err = Parse("p.toml", []byte(doc))
	got := ""
	if err != nil {
		got = err.Error()
	}
	for _, want := range []string{
		`p.toml:12: fleet.nats: "http://127.0.0.1:4222": the scheme is nats:// or tls://`,
		`p.toml:13: fleet.bucket: "a.b": letters, digits, - and _ only`,
		`p.toml:14: fleet.instance: "ns 1": letters, digits, - and _, in dot-separated parts`,
		`p.toml:15: fleet.credentials: stat /nonexistent/fleet.creds: no such file or directory`,
		`p.toml:16: unknown key "fleet.gossip"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if _, err := Parse("p.toml", []byte(sectionBase+"[fleet]\nbucket = \"x\"\n")); err == nil || !strings.Contains(err.Error(), "fleet: nats is needed") {
		t.Errorf("a [fleet] without nats: %v", err)
	}
}
