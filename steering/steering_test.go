package steering

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/dnsserver"
	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/geo/geotest"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/qoe"
	"github.com/cdnsteer/cdnsteer/zones"
)

const testPolicy = `[server]
dns = ["127.0.0.1:0"]
http = ""
[steering]
listen = "127.0.0.1:0"
trusted_proxies = ["127.0.0.1/32"]
[cdn.akamai]
target = "a.cdn.example.net"
[cdn.cloudfront]
target = "c.cdn.example.net"
pathway = "cf"
[cdn.fastly]
target = "f.cdn.example.net"
[policy.p.region.default]
weights = { akamai = 40, cloudfront = 35, fastly = 25 }
[[zone]]
origin = "example.com."
ns = ["ns1.example.com."]
[[zone.record]]
name = "ns1"
type = "A"
value = "192.0.2.1"
[[zone.steer]]
name = "live"
policy = "p"
`

// env is a DNS server and a steering listener over one state.
type env struct {
	dns     *dnsserver.Handler
	dnsAddr string
	url     string
	reg     *prometheus.Registry
	snap    *zones.Snapshot
	q       *QoE
	c       *qoe.Collector // the CMCD reports' collector
}

func start(t *testing.T, policy string) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	h := dnsserver.NewHandler(snap, dnsserver.NewMetrics(prometheus.NewRegistry()))
	ds, err := dnsserver.Listen(snap.Server.DNS, h, dnsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds.Serve()
	sh := NewHandler(dnsSource(h), NewMetrics(reg))
	c := qoe.NewCollector(qoe.NewMetrics(reg))
	q := sh.CollectQoE(c)
	ss, err := Listen(snap.Steering, sh, slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ss.Shutdown(ctx)
		ds.Shutdown(ctx)
	})
	return &env{dns: h, dnsAddr: ds.Addrs()[0].String(), url: "http://" + ss.Addr().String(), reg: reg, snap: snap, q: q, c: c}
}

// dnsSource reads the DNS handler's state, as cmd/cdnsteer wires it.
func dnsSource(h *dnsserver.Handler) Source {
	return func() State {
		st := h.State()
		subnets, asn := st.Subnets()
		return State{Snap: st.Snap, Live: st.Live, DB: st.DB, ASN: asn, Subnets: subnets}
	}
}

type manifest struct {
	Version  int      `json:"VERSION"`
	TTL      int      `json:"TTL"`
	Reload   string   `json:"RELOAD-URI"`
	Priority []string `json:"PATHWAY-PRIORITY"`
}

// get asks path+query with the given X-Forwarded-For (if any) and decodes
// a 200 into m; it returns the status and the body.
func get(t *testing.T, e *env, pathQuery, xff string) (int, manifest, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+pathQuery, nil)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m manifest
	if !json.Valid(body) {
		t.Fatalf("%s: body is not JSON: %q", pathQuery, body)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, m, resp.Header, string(body)
}

func TestManifestShapeAndCORS(t *testing.T) {
	e := start(t, testPolicy)
	code, m, hdr, body := get(t, e, "/steer/LIVE.example.com?sid=abc&_HLS_pathway=cf&_HLS_throughput=5000000", "")
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	if hdr.Get("Content-Type") != "application/json" || hdr.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers %v", hdr)
	}
	if m.Version != 1 || m.TTL != 30 || m.Reload != "/steer/LIVE.example.com?sid=abc" || len(m.Priority) != 3 {
		t.Errorf("manifest %+v", m)
	}
	for _, k := range []string{`"VERSION"`, `"TTL"`, `"RELOAD-URI"`, `"PATHWAY-PRIORITY"`} {
		if !strings.Contains(body, k) {
			t.Errorf("no key %s in %s", k, body)
		}
	}
	// The player on cf stays there: cf is healthy at full weight.
	if m.Priority[0] != "cf" {
		t.Errorf("player on a healthy cf moved: %v", m.Priority)
	}
}

// TestBadInput: issue 19's bad input over a real loopback connection.
// Each case is answered as the README says (4xx JSON naming its reason,
// or ignored and answered), never a 429, and counted under its reason.
func TestBadInput(t *testing.T) {
	e := start(t, testPolicy)
	long := "sid=x&pad=" + strings.Repeat("p", MaxQuery)
	for _, c := range []struct {
		q, xff string
		code   int
		reason string
	}{
		{"/steer/nope.example.com", "", 404, reasonUnknownName},
		{"/steer/nope.example.com?_HLS_pathway=cf", "", 404, reasonUnknownName},
		{"/other", "", 404, reasonBadPath},
		{"/steer/", "", 404, reasonBadPath},
		{"/steer/live.example.com?_HLS_throughput=fast", "", 400, reasonThroughput},
		{"/steer/live.example.com?_DASH_throughput=-1", "", 400, reasonThroughput},
		{"/steer/live.example.com?_HLS_throughput=NaN", "", 400, reasonThroughput},
		{"/steer/live.example.com?_DASH_throughput=1e400", "", 400, reasonThroughput},
		{"/steer/live.example.com?_HLS_throughput=", "", 400, reasonThroughput},
		{"/steer/live.example.com?_HLS_pathway=akamai.evil", "", 400, reasonPathway},
		{"/steer/live.example.com?_DASH_pathway=cloudfront", "", 400, reasonPathway}, // its pathway is cf
		{"/steer/live.example.com?_HLS_pathway=", "", 200, ""},
		{"/steer/live.example.com?_DASH_pathway=fastly", "", 200, ""},
		// over MaxQuery: on the fast path, and past its head buffer
		{"/steer/live.example.com?" + long, "", 400, reasonOversized},
		{"/steer/live.example.com?" + long + strings.Repeat("q", readBufSize), "", 400, reasonOversized},
		{"/steer/live.example.com?sid=" + strings.Repeat("s", MaxSID+1), "", 400, reasonSID},
		{"/steer/live.example.com?sid=", "", 400, reasonSID},
		{"/steer/live.example.com?sid=%zz", "", 400, reasonQuery},
		// from a trusted peer, a forwarded address that is none
		{"/steer/live.example.com", "not-an-address", 200, reasonXFFInvalid},
	} {
		before := reasonCount(t, e.reg, c.reason)
		code, _, hdr, body := get(t, e, c.q, c.xff)
		if code != c.code || hdr.Get("Access-Control-Allow-Origin") != "*" || hdr.Get("Content-Type") != "application/json" {
			t.Errorf("%.70s: %d %v %.200s, want %d", c.q, code, hdr, body, c.code)
		}
		if c.code != 200 && !strings.Contains(body, `"reason":"`+c.reason+`"`) {
			t.Errorf("%.70s: body %.200s names no reason %s", c.q, body, c.reason)
		}
		if c.reason != "" {
			if d := reasonCount(t, e.reg, c.reason) - before; d != 1 {
				t.Errorf("%.70s: counted %v times as %s, want once", c.q, d, c.reason)
			}
		}
	}
	// Other methods: net/http has them (the mux's other routes), and the
	// steering path refuses them with Allow.
	req, _ := http.NewRequest(http.MethodPut, e.url+"/steer/live.example.com", strings.NewReader("x"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" || reasonCount(t, e.reg, reasonMethod) != 1 {
		t.Errorf("PUT: %d %v, counted %v", resp.StatusCode, resp.Header, reasonCount(t, e.reg, reasonMethod))
	}
	if n := testutil.ToFloat64(mustCounter(t, e.reg, "cdnsteer_steering_requests_total")); n != 3 {
		t.Errorf("%v manifests counted, want the 3 answered", n)
	}
}

// reasonCount is cdnsteer_steering_bad_requests_total{reason}; 0 for "".
func reasonCount(t *testing.T, reg *prometheus.Registry, reason string) float64 {
	t.Helper()
	if reason == "" {
		return 0
	}
	fs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.GetName() != "cdnsteer_steering_bad_requests_total" {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// TestFirstPathwayIsDNSAnswer: without a session the first pathway is the
// CDN a real DNS answer gives the same /24 by ECS.
func TestFirstPathwayIsDNSAnswer(t *testing.T) {
	e := start(t, strings.Replace(testPolicy, "[server]", "[geo]\necs = true\n[server]", 1))
	seen := map[string]bool{}
	for i := 0; i < 60; i++ {
		seen[sameAsDNS(t, e, netip.AddrFrom4([4]byte{127, 1, byte(i), 0}))] = true
	}
	if len(seen) < 3 {
		t.Errorf("60 subnets reached only %v: the test proves little", seen)
	}
}

// TestASNRegionAsDNS: a client of an ASN region ([regions] kt =
// ["asn:4766"]) gets its region's CDN first from steering as from DNS,
// and its neighbours outside the AS the default region's, from both.
// Steering used to look regions up without the ASN database (and
// without DNS's map by /24), so KT's viewers got the default region's
// pathways.
func TestASNRegionAsDNS(t *testing.T) {
	dir := t.TempDir()
	mmdb := filepath.Join(dir, "GeoLite2-ASN.mmdb")
	geotest.Write(t, mmdb, geotest.ASN, []geotest.Network{
		{CIDR: "1.16.0.0/20", ASN: 4766},
		{CIDR: "1.16.64.0/18", ASN: 9318},
	})
	policy := strings.Replace(testPolicy, "[server]", "[geo]\necs = true\nasn_database = "+strconv.Quote(mmdb)+"\n[regions]\nkt = [\"asn:4766\"]\ndefault = [\"*\"]\n[server]", 1)
	policy = strings.Replace(policy, "[policy.p.region.default]", "[policy.p.region.kt]\nweights = { fastly = 1 }\n[policy.p.region.default]", 1)
	e := start(t, policy)
	a, err := geo.OpenASNDB(mmdb)
	if err != nil {
		t.Fatal(err)
	}
	e.dns.SetASNDB(a)
	byCDN := map[string]int{}
	for i := 0; i < 16; i++ {
		if got := sameAsDNS(t, e, netip.AddrFrom4([4]byte{1, 16, byte(i), 0})); got != "fastly" {
			t.Errorf("1.16.%d.0/24 (AS 4766, region kt): %s first, want fastly", i, got)
		}
		byCDN[sameAsDNS(t, e, netip.AddrFrom4([4]byte{1, 16, byte(64 + i), 0}))]++
	}
	if byCDN["akamai"] == 0 || byCDN["cf"] == 0 {
		t.Errorf("AS 9318's subnets (region default): %v, want the default split", byCDN)
	}
	// The players' reports are counted in the same regions, the client
	// read from X-Forwarded-For as for manifests.
	for _, c := range []struct{ xff, region string }{{"1.16.5.77", "kt"}, {"203.0.113.9, 1.16.70.77", "default"}} {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/qoe/cmcd", strings.NewReader(`e=t,cdn="fastly",sid="asn-test",v=2`+"\n"))
		req.Header.Set("Content-Type", "application/cmcd")
		req.Header.Set("X-Forwarded-For", c.xff)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST /qoe/cmcd: %d", resp.StatusCode)
		}
		if n := counter(e.reg, "cdnsteer_qoe_reports_total", "cdn", "fastly", "region", c.region); n != 1 {
			t.Errorf("a report from %s: %v counted in region %s, want 1", c.xff, n, c.region)
		}
	}
}

// sameAsDNS asks DNS (ECS) and steering (through the trusted proxy, for
// an address of the same /24) for subnet, fails unless both give the
// same CDN, and returns its pathway.
func sameAsDNS(t *testing.T, e *env, subnet netip.Addr) string {
	t.Helper()
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	cnameToPathway := map[string]string{"a.cdn.example.net.": "akamai", "c.cdn.example.net.": "cf", "f.cdn.example.net.": "fastly"}
	q := new(dns.Msg)
	q.SetQuestion("live.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: net.IP(subnet.AsSlice())})
	r, _, err := c.Exchange(q, e.dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	var target string
	for _, rr := range r.Answer {
		if cn, ok := rr.(*dns.CNAME); ok {
			target = cn.Target
		}
	}
	want := cnameToPathway[target]
	client := subnet.As4()
	client[3] = 77
	code, m, _, body := get(t, e, "/steer/live.example.com", netip.AddrFrom4(client).String())
	if code != 200 || m.Priority[0] != want {
		t.Fatalf("subnet %s: DNS says %q (%s), steering %d %s", subnet, want, target, code, body)
	}
	return want
}

func TestStickyAndDegradedLast(t *testing.T) {
	e := start(t, testPolicy)
	engine := health.NewEngine(e.snap.Health(), nil)
	now := time.Now()
	var live *health.Table
	for i := 0; i < 30; i++ {
		at := now.Add(time.Duration(i) * time.Second)
		for _, c := range []string{"akamai", "cloudfront", "fastly"} {
			v := health.Values{health.TTFB: health.F(120), health.ErrorRate: health.F(0.001), health.CacheHit: health.F(0.98)}
			if c == "akamai" {
				v = health.Values{health.TTFB: health.F(800), health.ErrorRate: health.F(1)}
			}
			engine.Push(health.Signal{CDN: c, Time: at, Values: v, Source: "test"})
		}
		live = engine.Evaluate(at)
	}
	e.dns.SetLive(live)
	for i := 0; i < 50; i++ {
		sid := "s" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		code, m, _, body := get(t, e, "/steer/live.example.com?_HLS_pathway=akamai&sid="+sid, "")
		if code != 200 || m.Priority[0] == "akamai" || m.Priority[2] != "akamai" {
			t.Fatalf("%s: a player on degraded akamai: %d %s", sid, code, body)
		}
		// A player on a healthy CDN stays, whatever its sid hashes to.
		for _, on := range []string{"cf", "fastly"} {
			_, m, _, body = get(t, e, "/steer/live.example.com?_HLS_pathway="+on+"&sid="+sid, "")
			if m.Priority[0] != on || m.Priority[2] != "akamai" {
				t.Fatalf("%s on %s: %s", sid, on, body)
			}
		}
	}
	if v := testutil.ToFloat64(mustCounter(t, e.reg, "cdnsteer_steering_moves_total")); v != 50 {
		t.Errorf("moves %v, want 50", v)
	}
}

func TestUntrustedForwardedForIgnored(t *testing.T) {
	e := start(t, strings.Replace(testPolicy, `trusted_proxies = ["127.0.0.1/32"]`, `trusted_proxies = ["192.0.2.0/24"]`, 1))
	// Every forged address must give the peer's own answer.
	_, want, _, _ := get(t, e, "/steer/live.example.com", "")
	for i := 0; i < 30; i++ {
		code, m, _, _ := get(t, e, "/steer/live.example.com", netip.AddrFrom4([4]byte{10, byte(i), 0, 1}).String())
		if code != 200 || strings.Join(m.Priority, ",") != strings.Join(want.Priority, ",") {
			t.Fatalf("forged X-Forwarded-For changed the answer: %d %v vs %v", code, m.Priority, want.Priority)
		}
	}
	if n := reasonCount(t, e.reg, reasonXFFIgnored); n != 30 {
		t.Errorf("ignored X-Forwarded-For counted %v times, want 30", n)
	}
	if n := reasonCount(t, e.reg, reasonXFFInvalid); n != 0 {
		t.Errorf("an untrusted peer's X-Forwarded-For was parsed: xff_invalid %v", n)
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("_HLS_pathway=cf&_HLS_throughput=123&sid=x")
	f.Add("_DASH_throughput=1e309&&=&sid=%41")
	f.Fuzz(func(t *testing.T, q string) {
		var p params
		if reason, _ := parseQuery(q, &p); reason == "" {
			if p.throughput < -1 || len(p.sid) > MaxSID {
				t.Fatalf("%q parsed to %+v", q, p)
			}
		}
		b := appendManifest(nil, 30, "/steer/"+q, p.sid, []string{p.pathway, "x"}, []int{1, 0})
		if !json.Valid(b) {
			t.Fatalf("invalid manifest %q", b)
		}
	})
}

// A player on a CDN that is healthy but a few score points under full
// marks (its live weight under the policy's) stays there, whatever its
// session hashes to: content steering moves sessions for a status (drain,
// degradation, recovery, capacity), not for score noise. Before
// health.Weights.Holds the handler compared weights, and the demo's
// players went back to a CDN the moment its drain ended.
func TestHealthyBelowFullScoreHolds(t *testing.T) {
	e := start(t, testPolicy)
	engine := health.NewEngine(e.snap.Health(), nil)
	now := time.Now()
	var live *health.Table
	for i := 0; i < 30; i++ {
		at := now.Add(time.Duration(i) * time.Second)
		for _, c := range []string{"akamai", "cloudfront", "fastly"} {
			v := health.Values{health.TTFB: health.F(120), health.ErrorRate: health.F(0.001), health.CacheHit: health.F(0.98)}
			if c == "fastly" {
				v = health.Values{health.TTFB: health.F(290), health.ErrorRate: health.F(0.015), health.CacheHit: health.F(0.6)}
			}
			engine.Push(health.Signal{CDN: c, Time: at, Values: v, Source: "test"})
		}
		live = engine.Evaluate(at)
	}
	pol := e.snap.Policies[0]
	ws, base := live.Get(pol.Index, 0), pol.Baseline[0]
	const fastly = 2
	if !(ws.W[fastly] > 0 && ws.W[fastly]/ws.Total() < base.W[fastly]/base.Total()*0.99) {
		t.Fatalf("fastly's share %.4f is not under its policy share %.4f: the case is not set up", ws.W[fastly]/ws.Total(), base.W[fastly]/base.Total())
	}
	e.dns.SetLive(live)
	for i := 0; i < 50; i++ {
		sid := "h" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		code, m, _, body := get(t, e, "/steer/live.example.com?_HLS_pathway=fastly&sid="+sid, "")
		if code != 200 || m.Priority[0] != "fastly" {
			t.Fatalf("%s: a player on a healthy fastly a few points under full marks was moved: %d %s", sid, code, body)
		}
	}
	if v := testutil.ToFloat64(mustCounter(t, e.reg, "cdnsteer_steering_moves_total")); v != 0 {
		t.Errorf("moves %v, want 0", v)
	}
}

// _DASH_throughput is bit/s, as dash.js 5 sends it (its kbit/s mean times
// 1000; the players test compares it with Chromium's timing), and after
// a switch it is a list, one per pathway of _DASH_pathway, the current
// last; an empty entry is a pathway without a sample.
func TestDASHThroughput(t *testing.T) {
	e := start(t, testPolicy)
	for _, c := range []struct {
		q    string
		want float64 // observed for fastly; -1: nothing
	}{
		{`_DASH_pathway=fastly&_DASH_throughput=4200000`, 4.2e6},
		{`_DASH_pathway=%22cf,fastly%22&_DASH_throughput=900000,5100000`, 5.1e6},
		{`_DASH_pathway=%22cf,fastly%22&_DASH_throughput=900000,`, -1},
		{`_DASH_pathway=fastly&_DASH_throughput=`, -1},
	} {
		before := histogram(t, e.reg, "cdnsteer_steering_throughput_bits_per_second", "fastly")
		code, _, _, body := get(t, e, "/steer/live.example.com?"+c.q, "")
		if code != 200 {
			t.Fatalf("%s: %d %s", c.q, code, body)
		}
		after := histogram(t, e.reg, "cdnsteer_steering_throughput_bits_per_second", "fastly")
		switch {
		case c.want < 0 && after.count != before.count:
			t.Errorf("%s: observed %v, want nothing", c.q, after.sum-before.sum)
		case c.want >= 0 && (after.count != before.count+1 || after.sum-before.sum != c.want):
			t.Errorf("%s: observed %v bit/s (%d), want %v", c.q, after.sum-before.sum, after.count-before.count, c.want)
		}
	}
}

type histo struct {
	sum   float64
	count uint64
}

// histogram is the sum and count of a histogram's series for cdn.
func histogram(t *testing.T, reg *prometheus.Registry, name, cdn string) histo {
	t.Helper()
	fs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == "cdn" && l.GetValue() == cdn {
					return histo{m.GetHistogram().GetSampleSum(), m.GetHistogram().GetSampleCount()}
				}
			}
		}
	}
	return histo{}
}
