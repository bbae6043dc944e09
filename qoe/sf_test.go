package qoe

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// Payloads as the CMCD specifications and the reference players write
// them. The query forms are URL-decoded first, as a server receives them.
var cmcdExamples = map[string]string{
	// CTA-5004 (v1), all keys in one query, and the same split over the
	// four headers, each a dictionary of its own.
	"cta5004 query":   mustUnescape("bl%3D21300%2Cbr%3D3200%2Cbs%2Ccid%3D%22faec5fc2-ac30-11eabb37-0242ac130002%22%2Cd%3D4004%2Cdl%3D18500%2Cmtp%3D48100%2Cnor%3D%22..%252F300kbps%252Ftrack.m4v%22%2Cnrr%3D%2212323-48763%22%2Cot%3Dv%2Cpr%3D1.08%2Crtp%3D12000%2Csf%3Dd%2Csid%3D%226e2fb550-c457-11e9-bb97-0800200c9a66%22%2Cst%3Dv%2Csu%2Ctb%3D6000"),
	"cta5004 request": `bl=21300,dl=18500,mtp=48100,nor="..%2F300kbps%2Ftrack.m4v",nrr="12323-48763",su`,
	"cta5004 object":  `br=3200,d=4004,ot=v,tb=6000`,
	"cta5004 status":  `bs,rtp=12000`,
	"cta5004 session": `cid="faec5fc2-ac30-11ea-bb37-0242ac130002",pr=1.08,sf=d,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",st=v`,
	"cta5004 sid":     `sid="6e2fb550-c457-11e9-bb97-0800200c9a66"`,
	// CTA-5004-B (v2): inner lists with object-type token parameters,
	// event mode (e=), response mode keys (rc, ttfb, url), custom keys,
	// as the SVTA common-media-library (hls.js's and dash.js's encoder)
	// writes them.
	"v2 event":    `ab=(2500),bg,bl=(5000),br=(200),bs,bsd=(2000),cdn="cdn-provider",cid="content-id",com.example-exists,com.example-hello="world",com.example-quote="\"Quote\"",com.example-testing=1234,com.example-token=s,cs="123456",d=325,dfa=5,dl=10000,e=t,ec=("ERR001" "ERR002"),lab=(200),lb=(100),ltc=1500,msd=2500,mtp=(10000),nor=("../testing/3.m4v"),ot=m,pb=(1000),pt=45000,rtp=8000,sf=d,sid="session-id",sn=1,st=v,sta=p,su,tab=(3000),tb=(5000),tbl=(8000),tpb=(4000),ts=1640995200000,v=2`,
	"v2 response": `ab=(2500),bg,bl=(5000),br=(200),bs,bsd=(2000),cdn="cdn-provider",cid="content-id",cmsdd="base64-encoded-cmsd-dynamic-data",cmsds="base64-encoded-cmsd-static-data",com.example-exists,d=325,dfa=5,dl=10000,e=rr,ec=("ERR001" "ERR002"),lab=(200),lb=(100),ltc=1500,msd=2500,mtp=(10000),nor=("../testing/3.m4v"),ot=m,pb=(1000),pt=45000,rc=200,rtp=8000,sf=d,sid="session-id",smrt="12345",sn=1,st=v,sta=p,su,tab=(3000),tb=(5000),tbl=(8000),tpb=(4000),ts=1640995200000,ttfb=150,ttfbb=200,ttlb=500,url="https://example.com/media/segment.m4s",v=2`,
	"v2 typed":    `br=(5000;v 128;a),v=2`,
	"v2 bg false": `bg=?0,cid="content-id",e=b,ts=1234,v=2`,
	// hls.js 1.x request mode on a segment (query, v1 keys) and its v2
	// error event.
	"hls.js segment": mustUnescape("br%3D1%2Cd%3D2000%2Cnor%3D%2210903.m4s%22%2Cot%3Dav%2Csf%3Dh%2Csid%3D%2201b5b1a7-1c8b-4e5c-9b53-2f5a2ca1e7d3%22%2Cst%3Dl%2Csu%2Ctb%3D1"),
	"hls.js error":   `e=e,ec=("fragLoadError"),sid="01b5b1a7-1c8b-4e5c-9b53-2f5a2ca1e7d3",sta=f,ts=1718000000000,v=2`,
	// dash.js (query, v1) and Shaka (event mode response received).
	"dash.js":     `bl=12300,br=3000,cid="21cf726cfe3d937b5f974f72bb5bd06a",d=3840,dl=12300,mtp=24400,ot=v,rtp=36600,sf=d,sid="b248658d-1d1a-4039-91d0-8c08ba597da5",st=v,tb=14932`,
	"shaka event": `e=rr,ot=v,rc=200,sf=d,sid="2a7e8b2c-6c0b-4f0e-8f55-7f6f0f7c3b1e",st=l,ts=1718000000123,ttfb=87,ttlb=412,url="https://cdn1.example.com/live/v/1080p/seg-42.m4s",v=2`,
}

func mustUnescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestParseSpecAndPlayerExamples(t *testing.T) {
	var d Dict
	for name, line := range cmcdExamples {
		if err := d.Parse([]byte(line)); err != nil {
			t.Errorf("%s: %v\n%s", name, err, line)
			continue
		}
		// Every key of the line is a member: the line's own keys, in
		// its order (none of these repeats one).
		var keys []string
		for i := 0; i < d.Len(); i++ {
			keys = append(keys, string(d.Member(i).Key))
		}
		if got := strings.Join(keys, ","); got != keysOf(line) {
			t.Errorf("%s: members %s, want %s", name, got, keysOf(line))
		}
		roundTrip(t, &d, name)
	}
}

// keysOf lists a line's keys by hand: each starts the line or follows a
// comma outside a string or a list, and ends at '=', ';' or ','.
func keysOf(s string) string {
	var keys []string
	inStr, depth, start := false, 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch c := s[i]; {
			case inStr && c == '\\':
				i++
				continue
			case c == '"':
				inStr = !inStr
			case !inStr && c == '(':
				depth++
			case !inStr && c == ')':
				depth--
			}
		}
		if i == len(s) || !inStr && depth == 0 && s[i] == ',' {
			k := s[start:i]
			if j := strings.IndexAny(k, "=;"); j >= 0 {
				k = k[:j]
			}
			keys = append(keys, k)
			start = i + 1
		}
	}
	return strings.Join(keys, ",")
}

// roundTrip checks that d, serialised, parses back to the same members.
func roundTrip(t *testing.T, d *Dict, name string) {
	t.Helper()
	out := d.AppendDict(nil)
	var back Dict
	if err := back.Parse(out); err != nil {
		t.Fatalf("%s: serialised %q does not parse: %v", name, out, err)
	}
	if !back.Equal(d) {
		t.Fatalf("%s: %q parses back to other members", name, out)
	}
	if again := back.AppendDict(nil); string(again) != string(out) {
		t.Fatalf("%s: serialising twice gives %q then %q", name, out, again)
	}
}

func TestParseValues(t *testing.T) {
	var d Dict
	line := `a=-12, b=1.5, c="x\"y\\z", d=tok/en:1, e=:aGk=:, f=?0, g, h=(1 "two" three;p=4);q, i=-0.25;r`
	if err := d.Parse([]byte(line)); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key string
		typ ItemType
		i   int64
		raw string
	}{
		{"a", TypeInteger, -12, ""}, {"b", TypeDecimal, 1500, ""}, {"c", TypeString, 0, `x\"y\\z`},
		{"d", TypeToken, 0, "tok/en:1"}, {"e", TypeBytes, 0, "aGk="}, {"f", TypeBoolean, 0, ""},
		{"g", TypeBoolean, 1, ""}, {"h", 0, 0, ""}, {"i", TypeDecimal, -250, ""},
	}
	if d.Len() != len(want) {
		t.Fatalf("%d members, want %d", d.Len(), len(want))
	}
	for i, w := range want {
		m := d.Member(i)
		if string(m.Key) != w.key || (w.typ != 0 && (m.IsList || m.Item.Type != w.typ || m.Item.Int != w.i || string(m.Item.Raw) != w.raw)) {
			t.Errorf("member %d: %s %+v, want %+v", i, m.Key, m.Item, w)
		}
	}
	if u := d.Member(2).Item.Unquote(nil); string(u) != `x"y\z` {
		t.Errorf("unquoted %q", u)
	}
	h := d.Member(7)
	if !h.IsList || d.ListLen(h) != 3 || string(d.ListItem(h, 2).Raw) != "three" || d.ItemParams(h, 2)[0].Value.Int != 4 || string(d.Params(h)[0].Key) != "q" {
		t.Errorf("inner list: %+v", h)
	}
	// A repeated key keeps its first place and takes the last value.
	if err := d.Parse([]byte("a=1, b=2, a=3")); err != nil || d.Len() != 2 || d.Member(0).Item.Int != 3 {
		t.Errorf("repeated key: %v, %d members, a=%d", err, d.Len(), d.Member(0).Item.Int)
	}
	// Spaces around the field are dropped; an empty field is an empty
	// dictionary.
	for _, ok := range []string{"  a=1  ", "", "a=1 ,\tb=2", "a=( 1  2 )", "a=1;  b=2", "*a=*b", "a=999999999999999", "a=999999999999.999"} {
		if err := d.Parse([]byte(ok)); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		} else {
			roundTrip(t, &d, ok)
		}
	}
}

// Malformed lines are refused, whatever part breaks.
func TestParseRefusesMalformed(t *testing.T) {
	var d Dict
	for _, bad := range []string{
		"a=1,", ",a=1", "a=1,,b=2", "a=1 b=2", "A=1", "1a=1", "a=", "a==1", "a=1.", "a=1.2345",
		"a=1234567890123456", "a=1234567890123.5", "a=-", "a=--1", `a="open`, `a="\x"`, "a=\"\x01\"", "a=\"é\"",
		"a=(1 2", "a=(1,2)", "a=(1 2)x", "a=?2", "a=?", "a=:abc", "a=:a*c:", "a=@1659578233", `a=%"x"`,
		"a=1;", "a=1;B", "a=1;b=", "\ta=1", "a=(\"x\"\"y\")", "a=1;b=(1)", "a=tok en", "a=1 ,",
	} {
		if err := d.Parse([]byte(bad)); err == nil {
			t.Errorf("%q accepted: %s", bad, d.AppendDict(nil))
		} else if d.Len() != 0 {
			t.Errorf("%q: refused but %d members left", bad, d.Len())
		}
	}
	var keys []string
	for i := 0; i <= MaxMembers; i++ {
		keys = append(keys, "k"+strconv.Itoa(i))
	}
	long := strings.Join(keys, ",")
	if err := d.Parse([]byte(long)); err != ErrTooLarge {
		t.Errorf("%d members: %v", MaxMembers+1, err)
	}
}

func FuzzParseCMCD(f *testing.F) {
	for _, line := range cmcdExamples {
		f.Add([]byte(line))
	}
	for _, s := range []string{"a=1.5;x, b=(1 2;y=?0);z", `a=:aGk=:, b="\\"`, "a=-0.001"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var d Dict
		if err := d.Parse(line); err != nil {
			if d.Len() != 0 {
				t.Fatalf("refused with %d members left", d.Len())
			}
			return
		}
		roundTrip(t, &d, string(line))
		var p Parser
		var r Report
		if err := p.Parse(line, &r); err != nil {
			t.Fatalf("the dictionary parses but not the report: %v", err)
		}
		if r.MTP < -1 || r.MSD < -1 || r.TTFB < -1 || r.RC != -1 && (r.RC < 100 || r.RC > 599) {
			t.Fatalf("report out of range: %+v", r)
		}
	})
}
