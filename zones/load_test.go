package zones

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const base = `[cdn.a]
target = "a.example.net."
[cdn.b]
target = "b.example.net."
[policy.p.region.default]
weights = { a = 1, b = 1 }
`

const zoneHead = `[[zone]]
origin = "z.example."
ns = ["ns1.z.example."]
[[zone.record]]
name = "ns1"
type = "A"
value = "192.0.2.1"
`

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"toml syntax", "[server\ndns = 1", []string{"bad.toml:2: expected '.' or ']' to end table name, but got '\\n' instead"}},
		{"unknown keys", "[server]\ndnss = []\n" + base + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\nweight = 3\n",
			[]string{`bad.toml:2: unknown key "server.dnss"`, `bad.toml:19: unknown key "zone.steer.weight"`}},
		{"unknown key in array table", base + zoneHead + "[[zone.record]]\nname = \"x\"\ntype = \"A\"\nvalu = \"192.0.2.2\"\n",
			[]string{`bad.toml:14: record x.z.example. A: value is missing`, `bad.toml:17: unknown key "zone.record.valu"`}},
		{"wrong type", base + zoneHead + "[server]\ndns = \"127.0.0.1:53\"\n",
			[]string{`bad.toml:15: incompatible types: TOML value has type string; destination has type slice`}},
		{"no zone", base, []string{"bad.toml:1: no [[zone]] is defined: there is nothing to serve"}},
		{"missing target", base + "[cdn.c]\ncommit_gbps = 3\n" + zoneHead,
			[]string{`bad.toml:7: cdn "c": target is missing`}},
		{"bad target", base + "[cdn.c]\ntarget = \"bad name..x\"\n" + zoneHead,
			[]string{`bad.toml:8: cdn "c": target "bad name..x" is not a valid domain name`}},
		{"weight for unknown cdn", "[cdn.a]\ntarget = \"a.example.net.\"\n[policy.p.region.default]\nweights = { a = 1, akamia = 2 }\n" + zoneHead,
			[]string{`bad.toml:4: policy "p" region "default": weight for unknown cdn "akamia" (defined: a)`}},
		{"negative weight", "[cdn.a]\ntarget = \"a.example.net.\"\n[policy.p.region.default]\nweights = { a = -1 }\n" + zoneHead,
			[]string{`bad.toml:4: policy "p" region "default": weight of "a" must be a number >= 0`}},
		{"all zero", "[cdn.a]\ntarget = \"a.example.net.\"\n[policy.p.region.default]\nweights = { a = 0 }\n" + zoneHead,
			[]string{`bad.toml:3: policy "p" region "default": weights are missing or all zero`}},
		{"no default region", "[regions]\nkr = [\"KR\"]\n[cdn.a]\ntarget = \"a.example.net.\"\n[policy.p.region.kr]\nweights = { a = 1 }\n" + zoneHead,
			[]string{`bad.toml:5: policy "p": [policy.p.region.default] weights are required (they serve every region without its own)`}},
		{"undefined region", base + "[policy.p.region.mars]\nweights = { a = 1 }\n" + zoneHead,
			[]string{`bad.toml:7: policy "p": region "mars" is not defined in [regions]`}},
		{"bad ttl", base + "[policy.p]\nttl = -5\n" + zoneHead,
			[]string{`bad.toml:8: policy "p": ttl -5 is outside 0..86400`}},
		{"steer unknown policy", base + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"q\"\n",
			[]string{`bad.toml:16: steer s.z.example.: policy "q" is not defined`}},
		{"steer collides with record", base + zoneHead + "[[zone.record]]\nname = \"s\"\ntype = \"TXT\"\nvalue = \"x\"\n[[zone.steer]]\nname = \"S\"\npolicy = \"p\"\n",
			[]string{`bad.toml:19: steer s.z.example.: collides with a static TXT record at the same name`}},
		{"steer at apex", base + zoneHead + "[[zone.steer]]\nname = \"@\"\npolicy = \"p\"\n",
			[]string{`bad.toml:15: steer z.example.: the zone apex cannot be steered (a CNAME cannot live beside SOA and NS)`}},
		{"steered twice", base + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\n[[zone.steer]]\nname = \"s.z.example.\"\npolicy = \"p\"\n",
			[]string{`bad.toml:18: steer s.z.example.: name is steered twice`}},
		{"duplicate zone", base + zoneHead + "[[zone]]\norigin = \"Z.example\"\nns = [\"ns.x.\"]\n",
			[]string{`bad.toml:15: zone "z.example." is defined twice`}},
		{"nested zone", base + zoneHead + "[[zone]]\norigin = \"sub.z.example.\"\nns = [\"ns.x.\"]\n",
			[]string{`bad.toml:15: zone "sub.z.example." overlaps zone "z.example.": serve one zone and delegate the other`}},
		{"bad origin", base + "[[zone]]\norigin = \"a..b\"\nns = [\"ns.x.\"]\n",
			[]string{`bad.toml:8: zone: origin "a..b" is not a valid domain name`}},
		{"missing ns", base + "[[zone]]\norigin = \"z.example.\"\n",
			[]string{`bad.toml:7: zone z.example.: ns is missing: list the names of the servers the zone is delegated to`}},
		{"in-zone ns without address", base + "[[zone]]\norigin = \"z.example.\"\nns = [\"ns9.z.example.\"]\n",
			[]string{`bad.toml:9: zone z.example.: name server ns9.z.example. is inside the zone but has no A or AAAA record`}},
		{"record outside zone", base + zoneHead + "[[zone.record]]\nname = \"www.other.example.\"\ntype = \"A\"\nvalue = \"192.0.2.2\"\n",
			[]string{`bad.toml:15: name "www.other.example." is outside zone z.example.`}},
		{"bad record value", base + zoneHead + "[[zone.record]]\nname = \"x\"\ntype = \"A\"\nvalue = \"300.1.1.1\"\n",
			[]string{`bad.toml:17: record x.z.example. A: bad value "300.1.1.1"`}},
		{"unsupported type", base + zoneHead + "[[zone.record]]\nname = \"x\"\ntype = \"SOA\"\nvalue = \"x\"\n",
			[]string{`bad.toml:16: record x.z.example.: type "SOA" is not supported (use A, AAAA, CNAME, TXT, MX, CAA, NS, SRV)`}},
		{"cname beside data", base + zoneHead + "[[zone.record]]\nname = \"x\"\ntype = \"CNAME\"\nvalue = \"y.example.\"\n[[zone.record]]\nname = \"x\"\ntype = \"A\"\nvalue = \"192.0.2.2\"\n",
			[]string{`bad.toml:14: record x.z.example. CNAME: a CNAME cannot live beside other records (A)`}},
		{"ttl mismatch", base + zoneHead + "[[zone.record]]\nname = \"x\"\ntype = \"A\"\nvalue = \"192.0.2.2\"\nttl = 60\n[[zone.record]]\nname = \"x\"\ntype = \"A\"\nvalue = \"192.0.2.3\"\nttl = 70\n",
			[]string{`bad.toml:23: record x.z.example. A: ttl 70 differs from the ttl 60 of the same RRset at line 14`}},
		{"duplicate record", base + zoneHead + "[[zone.record]]\nname = \"ns1\"\ntype = \"A\"\nvalue = \"192.0.2.1\"\n",
			[]string{`bad.toml:14: record ns1.z.example. A 192.0.2.1 is listed twice`}},
		{"wildcard", base + zoneHead + "[[zone.record]]\nname = \"*.w\"\ntype = \"A\"\nvalue = \"192.0.2.2\"\n",
			[]string{`bad.toml:15: name "*.w": wildcards are not supported`}},
		{"occluded by delegation", base + zoneHead + "[[zone.record]]\nname = \"sub\"\ntype = \"NS\"\nvalue = \"ns.x.\"\n[[zone.record]]\nname = \"www.sub\"\ntype = \"TXT\"\nvalue = \"hidden\"\n",
			[]string{`bad.toml:18: record www.sub.z.example. TXT: name is below the delegation sub.z.example. (only glue addresses may be)`}},
		{"wildcard dns address", "[server]\ndns = [\"0.0.0.0:53\", \"127.0.0.1\", \"127.0.0.1:53\", \"127.0.0.1:53\"]\n" + base + zoneHead,
			[]string{
				`bad.toml:2: server.dns: "0.0.0.0:53": bind each service address explicitly (replies must leave from the address that was asked)`,
				`bad.toml:2: server.dns: "127.0.0.1" is not an IP:port address (IPv6 as [::1]:53)`,
				`bad.toml:2: server.dns: "127.0.0.1:53" is listed twice`,
			}},
		{"bad probe", base + "[cdn.a.probe]\nurl = \"ftp://x\"\ninterval = \"1s\"\ntimeout = \"2s\"\n" + zoneHead,
			[]string{`bad.toml:8: cdn "a": probe.url: "ftp://x": scheme must be http or https`, `bad.toml:10: cdn "a": probe.timeout: 2s is longer than the interval 1s`}},
		{"geo network", "[[geo.network]]\ncidr = \"10.1.2.3/8\"\nregion = \"default\"\n[[geo.network]]\ncidr = \"10.0.0.0/8\"\nregion = \"kr\"\n" + base + zoneHead,
			[]string{`bad.toml:2: geo.network: "10.1.2.3/8" has host bits set; did you mean "10.0.0.0/8"?`, `bad.toml:6: geo.network 10.0.0.0/8: region "kr" is not defined in [regions]`}},
		{"cname loop", base + zoneHead + "[[zone.record]]\nname = \"l1\"\ntype = \"CNAME\"\nvalue = \"l2\"\n[[zone.record]]\nname = \"l2\"\ntype = \"CNAME\"\nvalue = \"l1\"\n",
			[]string{`bad.toml:14: record l1.z.example. CNAME: the chain loops back to l1.z.example.`, `bad.toml:18: record l2.z.example. CNAME: the chain loops back to l2.z.example.`}},
		{"thresholds", base + "[policy.p]\ndown_threshold = 80\nup_threshold = 60\n" + zoneHead,
			[]string{`bad.toml:8: policy "p": down_threshold: 80 must be below up_threshold (60)`}},
		{"score bounds", base + "[policy.p.score.ttfb]\ngood = 100\nbad = 100\n" + zoneHead,
			[]string{`bad.toml:7: policy "p": score.ttfb: good and bad must differ`}},
		{"infinite capacity", base + "[policy.p]\ncapacity_hard = inf\nsmoothing_up = nan\n" + zoneHead,
			[]string{`bad.toml:8: policy "p": capacity_hard: must be a finite number, not +Inf`, `bad.toml:9: policy "p": smoothing_up: must be a finite number, not NaN`}},
		{"infinite score bound", base + "[policy.p.score]\nttfb = {good = 100, bad = inf}\n" + zoneHead,
			[]string{`bad.toml:8: policy "p": score.ttfb.bad: must be a finite number, not +Inf`}},
		{"infinite score bound table", base + "[policy.p.score.download]\ngood = -inf\nbad = 2\n" + zoneHead,
			[]string{`bad.toml:8: policy "p": score.download.good: must be a finite number, not -Inf`}},
		{"infinite commit", base + "[cdn.c]\ntarget = \"c.example.net.\"\ncommit_gbps = -inf\n" + zoneHead,
			[]string{`bad.toml:9: cdn "c": commit_gbps must be a positive number`}},
		{"nan weight", "[cdn.a]\ntarget = \"a.example.net.\"\n[policy.p.region.default]\nweights = { a = nan }\n" + zoneHead,
			[]string{`bad.toml:4: policy "p" region "default": weight of "a" must be a number >= 0`}},
		{"prometheus", base + "[prometheus]\nurl = \"localhost:9090\"\n[prometheus.queries]\nttfb = \"x\"\n" + zoneHead,
			[]string{`bad.toml:8: prometheus.url: "localhost:9090": want scheme://host[:port], e.g. http://127.0.0.1:9090`, `bad.toml:10: prometheus.queries.ttfb: unknown signal, want one of ttfb_ms, error_rate, cache_hit_ratio, throughput_gbps`}},
		{"bad country", "[regions]\nkr = [\"KR\", \"ZZ\"]\n" + base + zoneHead,
			[]string{`bad.toml:2: regions.kr: "ZZ" is not an ISO 3166-1 alpha-2 country code, a continent code or "*"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(tc.doc))
			if err == nil {
				t.Fatal("invalid policy accepted")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("error %T is not Errors: %v", err, err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestExamplesCompile(t *testing.T) {
	files, _ := filepath.Glob("examples/*.toml")
	if len(files) == 0 {
		t.Fatal("no example policies found")
	}
	for _, f := range files {
		if strings.HasSuffix(f, "-scenario.toml") {
			continue // simulator scenarios, not policies
		}
		if _, err := Load(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestDefaults(t *testing.T) {
	s, err := Load("testdata/minimal.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Server.DNS) != 1 || s.Server.DNS[0].String() != DefaultDNS || s.Server.HTTP != DefaultHTTP {
		t.Errorf("server = %+v", s.Server)
	}
	if !s.Geo.ECS {
		t.Error("geo.ecs defaults to on")
	}
	if len(s.Regions) != 1 || s.Regions[0].Name != DefaultRegion {
		t.Errorf("regions = %+v, want the implicit default", s.Regions)
	}
	z := s.FindZone("x.z.example.")
	if z == nil {
		t.Fatal("zone z.example. not found")
	}
	if z.SOA.Serial != DefaultSerial || z.SOA.Refresh != DefaultRefresh || z.SOA.Retry != DefaultRetry ||
		z.SOA.Expire != DefaultExpire || z.SOA.Minttl != DefaultMinimum || z.SOA.Hdr.Ttl != DefaultRecordTTL {
		t.Errorf("SOA = %v", z.SOA)
	}
	if z.SOA.Mbox != "hostmaster.z.example." || z.SOA.Ns != "ns.elsewhere.example." {
		t.Errorf("SOA names = %s %s", z.SOA.Ns, z.SOA.Mbox)
	}
	p := s.PolicyByName("p")
	if p.TTL != DefaultPolicyTTL || p.Targets[0] != "a.example.net." {
		t.Errorf("policy = %+v", p)
	}
	if s.CDNs[0].Probe != nil {
		t.Error("a CDN without [probe] has a probe")
	}
}

func TestProbeDefaultsAndPaths(t *testing.T) {
	doc := `[server]
admin_token_file = "token"
decision_log = "/var/log/d.jsonl"
[geo]
database = "geo/GeoLite2-Country.mmdb"
ecs = false
[cdn.a]
target = "a.example.net."
[cdn.a.probe]
url = "http://127.0.0.1:9001/probe.ts"
[policy.p.region.default]
weights = { a = 1 }
[[zone]]
origin = "z.example."
ns = ["ns.x."]
`
	s, err := Parse("/etc/cdnsteer/policy.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if p := s.CDNs[0].Probe; p.Interval != time.Second || p.Timeout != 800*time.Millisecond {
		t.Errorf("probe = %+v", p)
	}
	if s.Server.AdminTokenFile != "/etc/cdnsteer/token" || s.Server.DecisionLog != "/var/log/d.jsonl" {
		t.Errorf("paths = %q %q", s.Server.AdminTokenFile, s.Server.DecisionLog)
	}
	if s.Geo.Database != "/etc/cdnsteer/geo/GeoLite2-Country.mmdb" || s.Geo.ECS {
		t.Errorf("geo = %+v", s.Geo)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], `policy "p" is not used`) {
		t.Errorf("warnings = %q", s.Warnings)
	}
}

func TestLookup(t *testing.T) {
	s, err := Parse("ok.toml", []byte(base+zoneHead+`[[zone.record]]
name = "a.b.c"
type = "TXT"
value = "deep"
[[zone.record]]
name = "sub"
type = "NS"
value = "ns.sub"
[[zone.record]]
name = "ns.sub"
type = "A"
value = "192.0.2.9"
[[zone.steer]]
name = "s"
policy = "p"
[[zone]]
origin = "y.example."
ns = ["ns1.z.example."]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, zone string }{
		{"z.example.", "z.example."}, {"a.b.c.z.example.", "z.example."}, {"y.example.", "y.example."},
		{"example.", ""}, {"xz.example.", ""}, {".", ""},
	} {
		z := s.FindZone(tc.name)
		if (z == nil && tc.zone != "") || (z != nil && z.Origin != tc.zone) {
			t.Errorf("FindZone(%s) = %v, want %q", tc.name, z, tc.zone)
		}
	}
	z := s.FindZone("z.example.")
	for _, tc := range []struct {
		name              string
		exists, cut, leaf bool
	}{
		{"b.c.z.example.", true, false, false},
		{"a.b.c.z.example.", true, false, true},
		{"x.z.example.", false, false, false},
		{"sub.z.example.", false, true, false},
		{"deep.ns.sub.z.example.", false, true, false},
		{"s.z.example.", true, false, true},
	} {
		node, cut := z.Find(tc.name)
		if (node != nil) != tc.exists || (cut != nil) != tc.cut {
			t.Errorf("Find(%s) = node %v cut %v, want exists %v cut %v", tc.name, node != nil, cut != nil, tc.exists, tc.cut)
		}
		if node != nil && (len(node.Sets) > 0 || node.Steer != nil) != tc.leaf {
			t.Errorf("Find(%s): has data %v, want %v", tc.name, !tc.leaf, tc.leaf)
		}
	}
	if sub, _ := z.Find("sub.z.example."); sub != nil {
		t.Error("a delegation point is answered as a node")
	}
	_, cut := z.Find("sub.z.example.")
	if len(cut.Glue) != 1 || cut.Glue[0].(*dns.A).A.String() != "192.0.2.9" {
		t.Errorf("glue = %v", cut.Glue)
	}
}

func TestTXTIsQuotedAndSplit(t *testing.T) {
	long := strings.Repeat("x", 300) + `"quoted"`
	s, err := Parse("ok.toml", []byte(base+zoneHead+"[[zone.record]]\nname = \"t\"\ntype = \"TXT\"\nvalue = '"+long+"'\n"))
	if err != nil {
		t.Fatal(err)
	}
	node, _ := s.FindZone("t.z.example.").Find("t.z.example.")
	txt := node.Set(dns.TypeTXT)[0].(*dns.TXT)
	if len(txt.Txt) != 2 || len(txt.Txt[0]) != 255 || strings.Join(txt.Txt, "") != strings.ReplaceAll(long, `"`, `\"`) {
		t.Errorf("TXT = %q", txt.Txt)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}
