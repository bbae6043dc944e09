package stream

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var pathways = []Pathway{{ID: "akamai", Base: "http://127.0.0.1:1001/media/"}, {ID: "fastly", Base: "http://127.0.0.1:1002/media/"}}

func TestMultivariant(t *testing.T) {
	got := string(Multivariant("http://127.0.0.1:8054/steer/stream.live.example.com?sid=s1", "fastly", pathways))
	for _, want := range []string{
		"#EXTM3U\n",
		`#EXT-X-CONTENT-STEERING:SERVER-URI="http://127.0.0.1:8054/steer/stream.live.example.com?sid=s1",PATHWAY-ID="fastly"`,
		`PATHWAY-ID="akamai"` + "\nhttp://127.0.0.1:1001/media/hls/media.m3u8\n",
		`PATHWAY-ID="fastly"` + "\nhttp://127.0.0.1:1002/media/hls/media.m3u8\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("multivariant playlist lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "#EXT-X-STREAM-INF:"); n != 2 {
		t.Errorf("%d variants, want one per pathway", n)
	}
}

const ffmpegMPD = `<?xml version="1.0" encoding="utf-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" minimumUpdatePeriod="PT1S">
	<ProgramInformation>
	</ProgramInformation>
	<Period id="0" start="PT0.0S">
	</Period>
</MPD>
`

func TestMPD(t *testing.T) {
	now := time.Date(2026, 12, 12, 19, 30, 0, 0, time.UTC)
	b, err := MPD([]byte(ffmpegMPD), "http://127.0.0.1:8054/steer/x?sid=a&b", "akamai", pathways, now)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`<BaseURL serviceLocation="akamai">http://127.0.0.1:1001/media/dash/</BaseURL>`,
		`<BaseURL serviceLocation="fastly">http://127.0.0.1:1002/media/dash/</BaseURL>`,
		`<ContentSteering defaultServiceLocation="akamai" queryBeforeStart="true">http://127.0.0.1:8054/steer/x?sid=a&amp;b</ContentSteering>`,
		`<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2026-12-12T19:30:00.000Z"/>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("MPD lacks %q:\n%s", want, got)
		}
	}
	// Order: BaseURLs after ProgramInformation, all before the Period;
	// UTCTiming after it.
	if !(strings.Index(got, "</ProgramInformation>") < strings.Index(got, "<BaseURL") &&
		strings.Index(got, "<ContentSteering") < strings.Index(got, "<Period") && strings.Index(got, "</Period>") < strings.Index(got, "<UTCTiming")) {
		t.Errorf("elements out of order:\n%s", got)
	}
	if _, err := MPD([]byte(`<MPD type="static"><Period/></MPD>`), "u", "a", pathways, now); err == nil {
		t.Error("a static MPD was taken for a live one")
	}
}

func TestFileServesOnlyMedia(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"hls/media.m3u8", "hls/seg_00001.ts", "hls/seg_00002.ts.tmp", "dash/chunk-0-00001.m4s", "dash/init-0.m4s", "dash/stream.mpd"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	s := &Stream{dir: dir}
	for name, ctype := range map[string]string{"hls/media.m3u8": "application/vnd.apple.mpegurl", "hls/seg_00001.ts": "video/mp2t",
		"dash/chunk-0-00001.m4s": "video/iso.segment", "dash/init-0.m4s": "video/mp4"} {
		if b, ct, ok := s.File(name); !ok || ct != ctype || string(b) != name {
			t.Errorf("File(%q) = %q, %q, %v", name, b, ct, ok)
		}
	}
	for _, name := range []string{"hls/seg_00002.ts.tmp", "dash/stream.mpd", "../etc/passwd", "hls/../dash/init-0.m4s", "hls/seg_00009.ts", "", "/hls/media.m3u8"} {
		if _, _, ok := s.File(name); ok {
			t.Errorf("File(%q) served", name)
		}
	}
}
