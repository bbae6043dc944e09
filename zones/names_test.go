package zones

import (
	"errors"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// label returns a label of n copies of c.
func label(c string, n int) string { return strings.Repeat(c, n) }

// Names of exactly 255 and 256 wire octets: four labels and the root's
// zero byte. The 256-octet one is 255 characters with its trailing dot.
var (
	name255 = label("a", 63) + "." + label("b", 63) + "." + label("c", 63) + "." + label("d", 61) + "."
	name256 = label("a", 63) + "." + label("b", 63) + "." + label("c", 63) + "." + label("d", 62) + "."
	// Relative to z.example. (11 octets) they make 255 and 256.
	rel255 = label("a", 63) + "." + label("b", 63) + "." + label("c", 63) + "." + label("d", 51)
	rel256 = label("a", 63) + "." + label("b", 63) + "." + label("c", 63) + "." + label("d", 52)
)

func record(name, typ, value string) string {
	return "[[zone.record]]\nname = '" + name + "'\ntype = \"" + typ + "\"\nvalue = '" + value + "'\n"
}

func TestNameErrors(t *testing.T) {
	if len(name256) != 255 || len(name255) != 254 {
		t.Fatalf("test names are %d and %d characters", len(name256), len(name255))
	}
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"owner of 256 octets", base + zoneHead + record(rel256, "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "` + rel256 + `" is not a valid domain name: 256 octets on the wire (at most 255)`}},
		{"absolute owner of 255 characters", base + zoneHead + record(label("a", 63)+"."+label("b", 63)+"."+label("c", 63)+"."+label("d", 52)+".z.example.", "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "` + rel256 + `.z.example." is not a valid domain name: 256 octets on the wire (at most 255)`}},
		{"label of 64 octets", base + zoneHead + record(label("x", 64), "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "` + label("x", 64) + `" is not a valid domain name: label "` + label("x", 64) + `" is 64 octets (at most 63)`}},
		{"escapes count as one octet", base + zoneHead + record(`\120`+label("x", 63), "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "\\120` + label("x", 63) + `" is not a valid domain name: label "` + label("x", 64) + `" is 64 octets (at most 63)`}},
		{"cdn target of 256 octets", strings.Replace(base, "b.example.net.", name256, 1) + zoneHead,
			[]string{`bad.toml:4: cdn "b": target "` + name256 + `" is not a valid domain name: 256 octets on the wire (at most 255)`}},
		{"semicolon", base + zoneHead + record("a;b", "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "a;b" is not a valid domain name: ";" cannot be in a name`}},
		{"parentheses and quote", base + zoneHead + record("a(b", "A", "192.0.2.2") + record("a)b", "A", "192.0.2.2") + record(`a"b`, "A", "192.0.2.2"),
			[]string{
				`bad.toml:15: name "a(b" is not a valid domain name: "(" cannot be in a name`,
				`bad.toml:19: name "a)b" is not a valid domain name: ")" cannot be in a name`,
				`bad.toml:23: name "a\"b" is not a valid domain name: "\"" cannot be in a name`,
			}},
		{"at sign", base + zoneHead + record("user@example", "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "user@example" is not a valid domain name: "@" cannot be in a name`}},
		{"whitespace", base + zoneHead + record("a b", "A", "192.0.2.2") + "[[zone.steer]]\nname = \"s\\t\"\npolicy = \"p\"\n",
			[]string{
				`bad.toml:15: name "a b" is not a valid domain name: whitespace cannot be in a name`,
				`bad.toml:19: name "s\t" is not a valid domain name: whitespace cannot be in a name`,
			}},
		{"control byte", base + zoneHead + "[[zone.steer]]\nname = \"s\\u0007\"\npolicy = \"p\"\n",
			[]string{`bad.toml:15: name "s\a" is not a valid domain name: control byte 0x07 cannot be in a name`}},
		{"non-ASCII owner", base + zoneHead + record("tést", "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "tést" is not a valid domain name: non-ASCII, write it as punycode "xn--tst-bma.z.example."`}},
		{"non-ASCII origin and ns", base + "[[zone]]\norigin = \"Bücher.example.\"\nns = [\"ns.Bücher.example.\"]\n",
			[]string{`bad.toml:8: zone: origin "Bücher.example." is not a valid domain name: non-ASCII, write it as punycode "xn--bcher-kva.example."`}},
		{"non-ASCII ns", base + "[[zone]]\norigin = \"z.example.\"\nns = [\"ns.tést.example.\"]\n",
			[]string{`bad.toml:9: zone z.example.: ns "ns.tést.example." is not a valid domain name: non-ASCII, write it as punycode "ns.xn--tst-bma.example."`}},
		{"escaped dot", base + zoneHead + record(`a\.b`, "A", "192.0.2.2"),
			[]string{`bad.toml:15: name "a\\.b" is not a valid domain name: an escaped dot cannot be in a name`}},
		{"hostmaster", base + "[[zone]]\norigin = \"z.example.\"\nns = [\"ns.x.\"]\nhostmaster = \"a b@example.com\"\n",
			[]string{`bad.toml:10: zone z.example.: hostmaster "a b@example.com" is not a valid mailbox: whitespace cannot be in a name`}},
		{"non-ASCII CNAME target", base + zoneHead + record("x", "CNAME", "tést"),
			[]string{`bad.toml:17: record x.z.example. CNAME: "tést.z.example." is not a valid domain name: non-ASCII, write it as punycode "xn--tst-bma.z.example."`}},
		{"escaped special in NS target", base + zoneHead + record("sub", "NS", `ns\059x.example.`),
			[]string{`bad.toml:17: record sub.z.example. NS: "ns\\059x.example." is not a valid domain name: ";" cannot be in a name`}},
		{"MX exchange of 256 octets", base + zoneHead + record("@", "MX", "10 "+name256),
			[]string{`bad.toml:17: record z.example. MX: "` + name256 + `" is not a valid domain name: 256 octets on the wire (at most 255)`}},
		{"same NS in two cases", base + zoneHead + record("sub", "NS", "ns.x.") + record("sub", "NS", "NS.X."),
			[]string{`bad.toml:18: record sub.z.example. NS NS.X. is listed twice`}},
		{"delegation without glue", base + zoneHead + record("sub", "NS", "ns.sub") + record("sub", "NS", "ns.elsewhere."),
			[]string{`bad.toml:14: record sub.z.example. NS: name server ns.sub.z.example. is inside the zone but has no A or AAAA record`}},
		{"delegation to a missing in-zone name", base + zoneHead + record("sub", "NS", "ns9"),
			[]string{`bad.toml:14: record sub.z.example. NS: name server ns9.z.example. is inside the zone but has no A or AAAA record`}},
		{"apex ns below a cut without glue", base + "[[zone]]\norigin = \"z.example.\"\nns = [\"ns.sub.z.example.\"]\n" + record("sub", "NS", "ns.x."),
			[]string{`bad.toml:9: zone z.example.: name server ns.sub.z.example. is inside the zone but has no A or AAAA record`}},
		{"cdn target is a steered name", strings.Replace(base, "b.example.net.", "S.Z.example", 1) + zoneHead + "[[zone.steer]]\nname = \"s\"\npolicy = \"p\"\n",
			[]string{`bad.toml:4: cdn "b": target s.z.example. is a steered name here (a CNAME loop)`}},
		{"cdn target missing in a served zone", strings.Replace(base, "b.example.net.", "nope.z.example.", 1) + zoneHead,
			[]string{`bad.toml:4: cdn "b": target nope.z.example. is inside zone z.example. but has no records there`}},
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

// TestNamesAccepted lists names that look odd but are served: service
// labels, hyphens, escapes of plain letters, the null MX and SRV target,
// and names of exactly 255 octets.
func TestNamesAccepted(t *testing.T) {
	head := strings.Replace(zoneHead, "[[zone.record]]", "hostmaster = \"First.Last@Example.com\"\n[[zone.record]]", 1)
	doc := strings.Replace(base, "b.example.net.", name255, 1) + head +
		record("_acme-challenge", "TXT", "token") +
		record("_sip._tcp", "SRV", "0 0 0 .") +
		record("nomail", "MX", "0 .") +
		record(rel255, "A", "192.0.2.3") +
		record(`\065lias`, "CNAME", "ns1")
	s, err := Parse("ok.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	z := s.FindZone("z.example.")
	for _, name := range []string{"_acme-challenge.z.example.", "_sip._tcp.z.example.", "nomail.z.example.", rel255 + ".z.example.", "alias.z.example."} {
		if n, _ := z.Find(name); n == nil || len(n.Sets) == 0 {
			t.Errorf("%s is not served", name)
		}
	}
	if w, _ := wireName(s.CDNs[1].Target); s.CDNs[1].Target != name255 || len(w) != 255 {
		t.Errorf("target %q packs to %d octets", s.CDNs[1].Target, len(w))
	}
	if z.SOA.Mbox != `first\.last.example.com.` {
		t.Errorf("RNAME = %q", z.SOA.Mbox)
	}
}

// TestRecordValuesAreCanonical: names in record data are looked up as
// the query path looks names up, lower case and fully qualified, so that
// glue is found and CNAMEs are followed whatever case they were written in.
func TestRecordValuesAreCanonical(t *testing.T) {
	doc := base + zoneHead +
		record("sub2", "NS", "NS.sub2") +
		record("ns.sub2", "A", "192.0.2.7") +
		record("www", "CNAME", "Player") +
		record("player", "A", "192.0.2.8") +
		record("@", "MX", "10 Mail.Z.Example.") +
		record("_x._tcp", "SRV", "0 0 443 Player")
	s, err := Parse("ok.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	z := s.FindZone("z.example.")
	_, cut := z.Find("x.sub2.z.example.")
	if cut == nil || len(cut.Glue) != 1 || cut.Glue[0].(*dns.A).A.String() != "192.0.2.7" {
		t.Fatalf("referral to sub2: cut %v, glue %v; want the A of ns.sub2", cut, cut.Glue)
	}
	if got := cut.Set(dns.TypeNS)[0].(*dns.NS).Ns; got != "ns.sub2.z.example." {
		t.Errorf("NS target = %q", got)
	}
	www, _ := z.Find("www.z.example.")
	if got := www.Set(dns.TypeCNAME)[0].(*dns.CNAME).Target; got != "player.z.example." {
		t.Errorf("CNAME target = %q", got)
	}
	if n, _ := z.Find("player.z.example."); n == nil {
		t.Error("the CNAME target does not resolve in the zone")
	}
	apex := z.Apex()
	if got := apex.Set(dns.TypeMX)[0].(*dns.MX).Mx; got != "mail.z.example." {
		t.Errorf("MX exchange = %q", got)
	}
	srv, _ := z.Find("_x._tcp.z.example.")
	if got := srv.Set(dns.TypeSRV)[0].(*dns.SRV).Target; got != "player.z.example." {
		t.Errorf("SRV target = %q", got)
	}
}

// FuzzCanonicalName: a name the policy accepts packs into at most 255
// octets, is its own canonical form, and is spelled exactly as the query
// path spells the same name read off the wire in lower case — or a query
// for it could never match.
func FuzzCanonicalName(f *testing.F) {
	for _, s := range []string{"a.b.", "A.b", ".", `\065b.c`, `a\.b`, "tést", name255, name256, "_sip._tcp.x", "a..b", `x\`, `\256`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		c, err := canonicalName(name)
		if err != nil {
			return
		}
		w, err := wireName(c)
		if err != nil || len(w) > 255 {
			t.Fatalf("%q -> %q packs to %d octets: %v", name, c, len(w), err)
		}
		if again, err := canonicalName(c); err != nil || again != c {
			t.Fatalf("%q -> %q -> %q, %v", name, c, again, err)
		}
		back, _, err := dns.UnpackDomainName(w, 0)
		if err != nil || strings.ToLower(back) != c {
			t.Fatalf("%q -> %q reads back off the wire as %q, %v", name, c, back, err)
		}
	})
}

// wireName is a domain name in uncompressed wire form.
func wireName(name string) ([]byte, error) {
	buf := make([]byte, 256)
	n, err := dns.PackDomainName(name, buf, 0, nil, false)
	return buf[:n], err
}
