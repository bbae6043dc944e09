package zones

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

const qoeBase = `[steering]
listen = "127.0.0.1:0"
[cdn.akamai]
target = "a.cdn.example.net."
[cdn.fastly]
target = "f.cdn.example.net."
[cdn.fastly.probe]
url = "https://Probe.Fastly.example.com/live/test.ts"
[policy.p.region.default]
weights = { akamai = 1, fastly = 1 }
` + zoneHead

func TestQoEDefaultsAndHosts(t *testing.T) {
	snap, err := Parse("q.toml", []byte(qoeBase+"[qoe]\nsample = 0.25\nwindow = \"1m\"\n[qoe.hosts]\nakamai = [\"Media.Akamai.example.com.\", \"akamaized.example\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	q := snap.QoE
	if q == nil || q.Sample != 0.25 || q.Window != time.Minute {
		t.Fatalf("qoe %+v", q)
	}
	want := map[string]int{"a.cdn.example.net": 0, "f.cdn.example.net": 1, "probe.fastly.example.com": 1, "media.akamai.example.com": 0, "akamaized.example": 0}
	if len(q.Hosts) != len(want) {
		t.Errorf("hosts %v, want %v", q.Hosts, want)
	}
	for h, i := range want {
		if got, ok := q.Hosts[h]; !ok || got != i {
			t.Errorf("host %s: %d, %v; want %d", h, got, ok, i)
		}
	}
	// Probes on one host (the demo's edges on 127.0.0.1) attribute
	// nothing to the first CDN listed: the host names none of them.
	shared := strings.Replace(qoeBase, "[cdn.fastly]\n", "[cdn.akamai.probe]\nurl = \"http://127.0.0.1:8101/test.ts\"\n[cdn.fastly]\n", 1)
	shared = strings.Replace(shared, "https://Probe.Fastly.example.com/live/test.ts", "http://127.0.0.1:8102/test.ts", 1)
	snap, err = Parse("q.toml", []byte(shared))
	if err != nil {
		t.Fatal(err)
	}
	if i, ok := snap.QoE.Hosts["127.0.0.1"]; ok {
		t.Errorf("a host both CDNs' probes use is cdn %d's", i)
	}
	if snap, err := Parse("q.toml", []byte(shared+"[qoe.hosts]\nfastly = [\"127.0.0.1\"]\n")); err != nil {
		t.Errorf("[qoe.hosts] giving a shared host to fastly: %v", err)
	} else if i, ok := snap.QoE.Hosts["127.0.0.1"]; !ok || i != 1 {
		t.Errorf("[qoe.hosts] giving a shared host to fastly: %v", snap.QoE.Hosts)
	}
	snap, err = Parse("q.toml", []byte(qoeBase))
	if err != nil || snap.QoE == nil || snap.QoE.Sample != DefaultQoESample || snap.QoE.Window != DefaultQoEWindow {
		t.Errorf("defaults: %+v %v", snap.QoE, err)
	}
	if snap, err := Parse("q.toml", []byte(strings.Replace(qoeBase, "[steering]\nlisten = \"127.0.0.1:0\"\n", "", 1))); err != nil || snap.QoE != nil {
		t.Errorf("without steering: %+v %v", snap.QoE, err)
	}
}

// Each bad [qoe] key is named at its line.
func TestQoEErrors(t *testing.T) {
	lines := strings.Count(qoeBase, "\n")
	at := func(n int) string { return "bad.toml:" + strconv.Itoa(lines+n) + ": " }
	for _, tc := range []struct{ doc, want string }{
		{"[qoe]\nsample = 1.5\n", at(2) + "qoe.sample: 1.5 is outside 0..1"},
		{"[qoe]\nsample = -0.1\n", at(2) + "qoe.sample: -0.1 is outside 0..1"},
		{"[qoe]\nwindow = \"2s\"\n", at(2) + "qoe.window: 2s is outside 6s..10m0s"},
		{"[qoe]\nwindow = \"1h\"\n", at(2) + "qoe.window: 1h0m0s is outside 6s..10m0s"},
		{"[qoe.hosts]\nakamia = [\"x.example\"]\n", at(2) + `qoe.hosts: unknown cdn "akamia"`},
		{"[qoe.hosts]\nakamai = [\"https://x.example/\"]\n", at(2) + `qoe.hosts.akamai: "https://x.example/" is not a host name (media.example.net)`},
		{"[qoe.hosts]\nakamai = [\"F.cdn.example.net\"]\n", at(2) + `qoe.hosts.akamai: "F.cdn.example.net" is cdn "fastly"'s already`},
		{"[qoe]\nsampel = 1\n", at(2) + `unknown key "qoe.sampel"`},
	} {
		_, err := Parse("bad.toml", []byte(qoeBase+tc.doc))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.doc, err, tc.want)
		}
	}
	doc := strings.Replace(qoeBase, "[steering]\nlisten = \"127.0.0.1:0\"\n", "", 1) + "[qoe]\nsample = 0.5\n"
	if _, err := Parse("bad.toml", []byte(doc)); err == nil || !strings.Contains(err.Error(), "qoe: players report to the steering listener: [steering] listen is needed") {
		t.Errorf("[qoe] without steering: %v", err)
	}
}
