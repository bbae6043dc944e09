package qoe

import (
	"testing"
	"time"
)

// What each example says that steering reads.
func TestReportsOfTheExamples(t *testing.T) {
	var p Parser
	var r Report
	for _, tc := range []struct {
		name               string
		starved            bool
		mtp, msd, ttfb, rc int64
		sid, cdn, url, ot  string
	}{
		{"cta5004 query", true, 48100, -1, -1, -1, "6e2fb550-c457-11e9-bb97-0800200c9a66", "", "", "v"},
		{"cta5004 request", false, -1, -1, -1, -1, "", "", "", ""}, // mtp without ot: no type, not video
		{"cta5004 status", true, -1, -1, -1, -1, "", "", "", ""},
		{"v2 event", true, -1, 2500, -1, -1, "session-id", "cdn-provider", "", "m"},
		{"v2 response", true, -1, 2500, 150, 200, "session-id", "cdn-provider", "https://example.com/media/segment.m4s", "m"},
		{"v2 typed", false, -1, -1, -1, -1, "", "", "", ""},
		{"hls.js segment", false, -1, -1, -1, -1, "01b5b1a7-1c8b-4e5c-9b53-2f5a2ca1e7d3", "", "", "av"},
		{"dash.js", false, 24400, -1, -1, -1, "b248658d-1d1a-4039-91d0-8c08ba597da5", "", "", "v"},
		{"shaka event", false, -1, -1, 87, 200, "2a7e8b2c-6c0b-4f0e-8f55-7f6f0f7c3b1e", "", "https://cdn1.example.com/live/v/1080p/seg-42.m4s", "v"},
	} {
		if err := p.Parse([]byte(cmcdExamples[tc.name]), &r); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Starved != tc.starved || r.MTP != tc.mtp || r.MSD != tc.msd || r.TTFB != tc.ttfb || r.RC != tc.rc ||
			string(r.SID) != tc.sid || string(r.CDN) != tc.cdn || string(r.URL) != tc.url || string(r.OT) != tc.ot || r.Dropped != 0 {
			t.Errorf("%s: %+v\nsid %q cdn %q url %q ot %q", tc.name, r, r.SID, r.CDN, r.URL, r.OT)
		}
	}
}

func TestReportKeys(t *testing.T) {
	var p Parser
	var r Report
	for _, tc := range []struct {
		line    string
		starved bool
		mtp     int64
		dropped int
	}{
		{"mtp=(5000;v 128;a)", false, 5000, 0},                       // the item marked video
		{"mtp=(128;a 5000;v)", false, 5000, 0},                       // wherever it is
		{"mtp=(128;a),ot=v", false, -1, 0},                           // audio only
		{"mtp=(4000),ot=av", false, 4000, 0},                         // unmarked on a video object
		{"ot=v,mtp=4000", false, 4000, 0},                            // ot after or before
		{"mtp=4000", false, -1, 0},                                   // no object type: not known to be video
		{"bsd=(0;v 0;a),ot=v", false, -1, 0},                         // durations of nothing
		{"bsd=(0;v 1200;a)", true, -1, 0},                            // an audio stall stalls the viewer
		{"bsd=3000", true, -1, 0},                                    // v2 drafts' single value
		{"sta=r", true, -1, 0},                                       // the rebuffering state
		{"bs=?0", false, -1, 0},                                      // said false
		{"bs=1", false, -1, 1},                                       // not a boolean
		{"ot=v,mtp=-100,ttfb=-5,msd=9999999999,rc=42", false, -1, 4}, // negative, absurd
		{`sid=("a"),cdn=tok,url=1`, false, -1, 3},                    // wrong types
		{"e=t,com.example-x=1,zz=(1 2),v=2", false, -1, 0},           // unknown keys ignored
	} {
		if err := p.Parse([]byte(tc.line), &r); err != nil {
			t.Fatalf("%s: %v", tc.line, err)
		}
		if r.Starved != tc.starved || r.MTP != tc.mtp || r.Dropped != tc.dropped {
			t.Errorf("%s: starved %v mtp %d dropped %d, want %v %d %d", tc.line, r.Starved, r.MTP, r.Dropped, tc.starved, tc.mtp, tc.dropped)
		}
	}
	if err := p.Parse([]byte(`sid="a\"b",cdn="c"`), &r); err != nil || string(r.SID) != `a"b` || string(r.CDN) != "c" {
		t.Errorf("escaped sid: %q %q %v", r.SID, r.CDN, err)
	}
}

// After warm-up neither parsing a line nor counting it allocates.
func TestNoAllocationsPerLine(t *testing.T) {
	c := NewCollector(nil)
	c.Configure(Config{Sample: 1, Window: 30 * time.Second}, testTopology())
	var p Parser
	var r Report
	lines := [][]byte{[]byte(cmcdExamples["v2 response"]), []byte(cmcdExamples["shaka event"]), []byte(`sid="a\"b",bs,ot=v,mtp=(5000;v)`)}
	now := time.Unix(1e9, 0)
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		line := lines[i%len(lines)]
		i++
		if err := p.Parse(line, &r); err != nil {
			t.Fatal(err)
		}
		c.Add(&r, Session(r.SID, nil), 1, 0, now)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per line", allocs)
	}
}
