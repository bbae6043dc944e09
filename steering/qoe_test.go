package steering

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
)

const qoePolicy = `[server]
dns = ["127.0.0.1:0"]
http = ""
[steering]
listen = "127.0.0.1:0"
[regions]
kr = ["KR"]
[[geo.network]]
cidr = "127.0.0.0/8"
region = "kr"
[cdn.akamai]
target = "a.cdn.example.net"
[cdn.fastly]
target = "f.cdn.example.net"
pathway = "fy"
[policy.p.region.default]
weights = { akamai = 1, fastly = 1 }
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

type qoeEnv struct {
	*env
	url string // POST /qoe/cmcd
}

// startQoE serves the steering listener, POST /qoe/cmcd routed, on
// loopback.
func startQoE(t *testing.T, extra string) *qoeEnv {
	t.Helper()
	e := start(t, qoePolicy+extra)
	return &qoeEnv{env: e, url: e.url + "/qoe/cmcd"}
}

func (e *qoeEnv) post(t *testing.T, ctype string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url, body)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no CORS header on %d", resp.StatusCode)
	}
	return resp.StatusCode, string(b)
}

func counter(reg *prometheus.Registry, name string, labels ...string) float64 {
	fs, _ := reg.Gather()
	var sum float64
	for _, f := range fs {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.Metric {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.Label {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func TestPostCMCD(t *testing.T) {
	e := startQoE(t, "")
	batch := strings.Join([]string{
		`e=rr,ot=v,rc=200,sid="s1",ts=1718000000123,ttfb=87,url="https://f.cdn.example.net/live/seg-1.m4s",v=2`,
		`e=t,bs,cdn="akamai",mtp=(8000;v),sid="s2",ts=1718000000200,v=2`,
		`e=t,sid="s3,ts=1`, // malformed: the string never ends
		``,
		`e=rr,ot=v,rc=503,sid="s4",url="https://elsewhere.example.org/x.m4s",v=2`, // no CDN of the policy
		"e=rr,ot=v,rc=404,sid=\"s5\",cdn=\"fy\",v=2\r",
	}, "\n") + "\n"
	if code, body := e.post(t, "application/cmcd", strings.NewReader(batch)); code != http.StatusNoContent {
		t.Fatalf("%d %s", code, body)
	}
	if n := counter(e.reg, "cdnsteer_qoe_reports_total", "cdn", "fastly", "region", "kr"); n != 2 {
		t.Errorf("fastly reports in kr %v, want 2", n)
	}
	if n := counter(e.reg, "cdnsteer_qoe_reports_total", "cdn", "akamai", "region", "kr"); n != 1 {
		t.Errorf("akamai reports in kr %v, want 1", n)
	}
	if n := counter(e.reg, "cdnsteer_qoe_malformed_reports_total"); n != 1 {
		t.Errorf("malformed %v, want 1", n)
	}
	if n := counter(e.reg, "cdnsteer_qoe_unknown_cdn_reports_total", "region", "kr"); n != 1 {
		t.Errorf("unknown CDN %v, want 1", n)
	}
	// What the engine is given: kr's own values, from the players.
	errs := map[string]float64{}
	for _, s := range e.c.Flush(time.Now()) {
		if s.Region != "kr" || s.Source != health.SourceCMCD {
			t.Errorf("signal %+v", s)
		}
		if v := s.Values[health.SegmentErrorRate]; v != nil {
			errs[s.CDN] = *v
		}
	}
	if errs["fastly"] != 0.5 {
		t.Errorf("fastly's segment errors %v, want 0.5", errs)
	}

	// Refusals: size, type, method; the preflight a browser sends first.
	big := strings.Repeat(`e=t,sid="x",v=2`+"\n", MaxCMCDBody/16+1)
	if code, _ := e.post(t, "application/cmcd", strings.NewReader(big)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("%d bytes: %d", len(big), code)
	}
	// Without a Content-Length (chunked) the reader stops at the limit.
	if code, _ := e.post(t, "application/cmcd", io.MultiReader(strings.NewReader(big))); code != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked %d bytes: %d", len(big), code)
	}
	if n := counter(e.reg, "cdnsteer_qoe_oversized_bodies_total"); n != 2 {
		t.Errorf("oversized %v, want 2", n)
	}
	if code, _ := e.post(t, "application/json", strings.NewReader(`{}`)); code != http.StatusUnsupportedMediaType {
		t.Errorf("JSON: %d", code)
	}
	resp, err := http.Get(e.url)
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodOptions, e.url, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Content-Type") {
		t.Errorf("preflight: %v %v %v", resp.StatusCode, resp.Header, err)
	}
}

// Sessions outside [qoe] sample are told to stop: 410, never 429.
func TestPostCMCDOutsideTheSample(t *testing.T) {
	e := startQoE(t, "[qoe]\nsample = 0.0\n")
	code, _ := e.post(t, "application/cmcd", strings.NewReader(`e=t,sid="s1",v=2`+"\n"+`e=t,sid="s2",v=2`))
	if code != http.StatusGone {
		t.Errorf("%d, want 410", code)
	}
	if n := counter(e.reg, "cdnsteer_qoe_sampled_out_reports_total"); n != 2 {
		t.Errorf("sampled out %v", n)
	}
	e = startQoE(t, "[qoe]\nsample = 0.5\n")
	var in, out int
	for i := range 200 {
		code, _ := e.post(t, "application/cmcd", strings.NewReader(`e=t,cdn="akamai",sid="`+url.QueryEscape(string(rune('a'+i%26))+strings.Repeat("x", i))+`"`))
		switch code {
		case http.StatusNoContent:
			in++
		case http.StatusGone:
			out++
		default:
			t.Fatalf("%d", code)
		}
	}
	if in < 70 || out < 70 {
		t.Errorf("at 0.5: %d sessions in, %d out", in, out)
	}
}

// The CMCD= query of a steering request counts as a report; its pathway
// names the CDN when the report does not. Over the listener: the fast
// path's requests and net/http's (HTTP/1.0) alike.
func TestQueryCMCD(t *testing.T) {
	e := startQoE(t, "")
	cmcd := url.QueryEscape(`bl=21300,bs,mtp=48100,ot=v,sid="6e2fb550-c457-11e9-bb97-0800200c9a66",su`)
	for _, q := range []string{
		"_HLS_pathway=fy&CMCD=" + cmcd + "&_HLS_throughput=5000000",
		"_HLS_pathway=fy&CMCD=bs%2C%2Cx", // malformed
		"_HLS_pathway=fy&CMCD=%zz",       // bad encoding
		"_HLS_pathway=fy",                // none
	} {
		if code, _, _, body := get(t, e.env, "/steer/live.example.com?"+q, ""); code != http.StatusOK {
			t.Fatalf("%s: %d %s", q, code, body)
		}
	}
	c, r := rawConn(t, e.env)
	io.WriteString(c, "GET /steer/live.example.com?_HLS_pathway=fy&CMCD="+cmcd+" HTTP/1.0\r\n\r\n")
	if resp, body := readResponse(t, r, "GET"); resp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP/1.0: %d %s", resp.StatusCode, body)
	}
	if n := counter(e.reg, "cdnsteer_qoe_reports_total", "cdn", "fastly", "region", "kr"); n != 2 {
		t.Errorf("reports %v, want 2", n)
	}
	if n := testutil.ToFloat64(prometheusCounter(e.reg, "cdnsteer_qoe_malformed_reports_total")); n != 2 {
		t.Errorf("malformed %v", n)
	}
	var tput float64
	for _, s := range e.c.Flush(time.Now()) {
		if v := s.Values[health.VideoThroughput]; v != nil && s.CDN == "fastly" {
			tput = *v
		}
	}
	if tput != 48100 {
		t.Errorf("throughput %v", tput)
	}
}

func prometheusCounter(reg *prometheus.Registry, name string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sum"})
	c.Add(counter(reg, name))
	return c
}
