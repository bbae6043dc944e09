package qoe

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
)

func testTopology() Topology {
	return Topology{
		CDNs:     []string{"akamai", "cloudfront", "fastly"},
		Regions:  []string{"default", "kr", "us"},
		Pathways: []string{"akamai", "cf", "fastly"},
		Hosts:    map[string]int{"a.cdn.example.net": 0, "cloudfront.example.net": 1, "f.cdn.example.net": 2},
	}
}

func newTestCollector(t *testing.T, sample float64) (*Collector, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c := NewCollector(NewMetrics(reg))
	c.Configure(Config{Sample: sample, Window: 30 * time.Second}, testTopology())
	return c, reg
}

// add parses line and adds it for session sid (or the address when sid
// is empty) in region.
func add(t *testing.T, c *Collector, line, addr string, region, pathway int, now time.Time) Outcome {
	t.Helper()
	var p Parser
	var r Report
	if err := p.Parse([]byte(line), &r); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return c.Add(&r, Session(r.SID, []byte(addr)), region, pathway, now)
}

// TestUnconfigured: the collector has no defaults of its own; until its
// caller configures it, a report counts for nothing and nothing is published.
func TestUnconfigured(t *testing.T) {
	c := NewCollector(nil)
	now := time.Unix(1e9, 0)
	if got := add(t, c, `cdn="fastly",sid="1",bl=5000`, "", 0, 0, now); got != SampledOut {
		t.Errorf("unconfigured collector: outcome %d, want SampledOut", got)
	}
	if sigs := c.Flush(now.Add(time.Second)); len(sigs) != 0 {
		t.Errorf("unconfigured collector published %v", sigs)
	}
}

func TestAttribution(t *testing.T) {
	c, _ := newTestCollector(t, 1)
	now := time.Unix(1e9, 0)
	for _, tc := range []struct {
		line    string
		pathway int
		want    string // "" for no CDN
	}{
		{`cdn="fastly",sid="1"`, -1, "fastly"},
		{`cdn="cf",sid="2"`, -1, "cloudfront"},                                                 // a pathway ID
		{`url="https://F.CDN.example.net:443/live/seg1.m4s",sid="3"`, -1, "fastly"},            // its host, any case
		{`url="https://edge7.cloudfront.example.net/live/seg1.m4s",sid="4"`, -1, "cloudfront"}, // a parent domain
		{`cdn="other",url="https://a.cdn.example.net/x",sid="5"`, 2, "akamai"},                 // cdn unknown, url next
		{`url="../seg2.m4s",sid="6"`, 1, "cloudfront"},                                         // relative: the pathway
		{`cdn="nobody",url="https://example.org/x",sid="7"`, -1, ""},
		{`sid="8"`, -1, ""},
	} {
		got := add(t, c, tc.line, "192.0.2.1", 1, tc.pathway, now)
		if tc.want == "" {
			if got != UnknownCDN {
				t.Errorf("%s: %v, want unknown", tc.line, got)
			}
			continue
		}
		if got != Counted {
			t.Errorf("%s: %v", tc.line, got)
		}
	}
	sigs := c.Flush(now)
	counts := map[string]int{}
	for _, s := range sigs {
		if s.Values[health.RebufferRatio] != nil {
			counts[s.CDN] += s.Samples
		}
	}
	if counts["fastly"] != 2 || counts["cloudfront"] != 3 || counts["akamai"] != 1 {
		t.Errorf("sessions by CDN %v", counts)
	}
	if n := testutil.ToFloat64(c.metrics.unknown.WithLabelValues("kr")); n != 2 {
		t.Errorf("unknown CDN counted %v times, want 2", n)
	}
}

// The values of a window: the rebuffering share counts sessions (one
// session's many reports are one viewer), the others reports; the
// window slides, and what is older than it is gone.
func TestWindowValues(t *testing.T) {
	c, reg := newTestCollector(t, 1)
	t0 := time.Unix(1e9, 0)
	for s := range 200 {
		for i := range 5 { // five reports a session
			line := fmt.Sprintf(`sid="s%d",ot=v,mtp=%d,ttfb=%d,rc=%d`, s, 3000+100*(s%3), 100, 200)
			if s < 20 && i == 3 {
				line += ",bs"
			}
			if s < 10 && i == 4 {
				line += ",rc=503" // the last value wins
			}
			if i == 0 {
				line += ",msd=" + strconv.Itoa(1000+s)
			}
			add(t, c, line, "", 1, 0, t0.Add(time.Duration(i)*time.Second))
		}
	}
	got := map[health.Kind]health.Signal{}
	for _, s := range c.Flush(t0.Add(5 * time.Second)) {
		if s.CDN != "akamai" && s.CDN != "" {
			t.Fatalf("signal for %s", s.CDN)
		}
		for k := range health.NumKinds {
			if s.Values[k] != nil {
				got[k] = s
			}
		}
	}
	val := func(k health.Kind) float64 { return *got[k].Values[k] }
	if _, ok := got[health.RebufferRatio]; !ok {
		t.Fatalf("no rebuffering share: %v", got)
	}
	if r, n := val(health.RebufferRatio), got[health.RebufferRatio].Samples; math.Abs(r-0.1) > 0.01 || n < 195 || n > 205 {
		t.Errorf("rebuffering %v over %d sessions, want 0.1 over 200", r, n)
	}
	if v, n := val(health.StartupMs), got[health.StartupMs].Samples; v != 1099.5 || n != 200 {
		t.Errorf("start-up %v over %d", v, n)
	}
	if v, n := val(health.VideoThroughput), got[health.VideoThroughput].Samples; math.Abs(v-3099.5) > 1 || n != 1000 {
		t.Errorf("throughput %v over %d", v, n)
	}
	if v := val(health.SegmentErrorRate); v != 10.0/1000 {
		t.Errorf("segment errors %v, want 1%%", v)
	}
	if got[health.RebufferRatio].Region != "kr" || got[health.RebufferRatio].Source != health.SourceCMCD {
		t.Errorf("signal %+v", got[health.RebufferRatio])
	}
	if n := testutil.ToFloat64(c.metrics.reports.WithLabelValues("akamai", "kr")); n != 1000 {
		t.Errorf("%v reports counted", n)
	}
	if v := testutil.ToFloat64(gaugeOf(t, reg, "cdnsteer_qoe_rebuffer_ratio")); math.Abs(v-0.1) > 0.01 {
		t.Errorf("gauge %v", v)
	}
	// 40 s later the window holds nothing and nothing is published.
	if sigs := c.Flush(t0.Add(40 * time.Second)); len(sigs) != 0 {
		t.Errorf("%d signals from an empty window", len(sigs))
	}
}

func gaugeOf(t *testing.T, reg *prometheus.Registry, name string) prometheus.Gauge {
	t.Helper()
	fs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
	for _, f := range fs {
		if f.GetName() == name {
			for _, m := range f.Metric {
				g.Add(m.GetGauge().GetValue())
			}
		}
	}
	return g
}

// A session flooding reports counts for at most 4 a second of the window.
func TestSessionCap(t *testing.T) {
	c, _ := newTestCollector(t, 1)
	t0 := time.Unix(1e9, 0).Truncate(30 * time.Second)
	counted := 0
	for range 1000 {
		if add(t, c, `sid="flood",ot=v,rc=500`, "", 1, 0, t0) == Counted {
			counted++
		}
	}
	if counted != 120 {
		t.Errorf("%d of a flood counted, want 120", counted)
	}
	if add(t, c, `sid="another",ot=v,rc=200`, "", 1, 0, t0) != Counted {
		t.Error("another session capped")
	}
	if add(t, c, `sid="flood",ot=v,rc=500`, "", 1, 0, t0.Add(30*time.Second)) != Counted {
		t.Error("the next window still capped")
	}
}

// [qoe] sample keeps that share of sessions, the same ones every time.
func TestSample(t *testing.T) {
	c, _ := newTestCollector(t, 0.25)
	kept := 0
	for i := range 20000 {
		s := Session([]byte("session-"+strconv.Itoa(i)), nil)
		if c.Sampled(s) {
			kept++
		}
		if c.Sampled(s) != c.Sampled(s) {
			t.Fatal("not deterministic")
		}
	}
	if kept < 4700 || kept > 5300 {
		t.Errorf("%d of 20000 sessions sampled at 0.25", kept)
	}
	if add(t, c, `sid="x"`, "", 0, 0, time.Now()) == SampledOut == c.Sampled(Session([]byte("x"), nil)) {
		t.Error("Add and Sampled disagree")
	}
}

// Memory does not grow with the audience: a million sessions' reports
// leave the heap where ten thousand left it.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a million reports")
	}
	c, _ := newTestCollector(t, 1)
	var r Report
	var p Parser
	p.Parse([]byte(`ot=v,mtp=(4000),bs,rc=200,ttfb=90`), &r)
	t0 := time.Unix(1e9, 0)
	feed := func(from, to int) {
		for i := from; i < to; i++ {
			c.Add(&r, uint64(i)*0x9e3779b97f4a7c15, i%3, i%3, t0.Add(time.Duration(i%25)*time.Second))
		}
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	feed(0, 10000)
	before := heap()
	feed(10000, 1000000)
	if after := heap(); after > before+256<<10 {
		t.Errorf("heap grew from %d to %d bytes over a million sessions", before, after)
	}
	sigs := c.Flush(t0.Add(25 * time.Second))
	var n int
	for _, s := range sigs {
		if s.Values[health.RebufferRatio] != nil {
			n += s.Samples
		}
	}
	if n < 950000 || n > 1050000 {
		t.Errorf("%d sessions estimated, want about a million", n)
	}
}
