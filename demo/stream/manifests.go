package stream

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"
)

// Pathway is one CDN as the manifests name it: its pathway ID (HLS) or
// service location (DASH), and the base URL of its edge's media tree,
// ending in "/" ("http://127.0.0.1:PORT/media/").
type Pathway struct {
	ID   string `json:"id"`
	Base string `json:"base"`
}

// Multivariant is the HLS multivariant playlist: the steering server
// (steer, with the session's sid) and the pathway to start on (first),
// then the one variant once per pathway, each on its edge. A player moves
// between pathways by switching to that pathway's copy of the variant.
func Multivariant(steer, first string, ps []Pathway) []byte {
	var b bytes.Buffer
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	fmt.Fprintf(&b, "#EXT-X-CONTENT-STEERING:SERVER-URI=%q,PATHWAY-ID=%q\n", steer, first)
	for _, p := range ps {
		// STABLE-VARIANT-ID says the copies are the same rendition, so a
		// pathway switch is no change of quality.
		fmt.Fprintf(&b, "#EXT-X-STREAM-INF:BANDWIDTH=700000,AVERAGE-BANDWIDTH=600000,RESOLUTION=640x360,FRAME-RATE=25.000,STABLE-VARIANT-ID=\"main\",PATHWAY-ID=%q\n", p.ID)
		b.WriteString(p.Base + HLSPlaylist + "\n")
	}
	return b.Bytes()
}

// MPD turns ffmpeg's live MPD into the steered one: one BaseURL per edge
// with its service location, a ContentSteering element (the steering
// server with the session's sid, the location to start on, asked before
// playback starts) and the server's clock as a direct UTCTiming, so that
// dash.js needs no time server. ffmpeg's segment addresses are relative,
// so they resolve against whichever BaseURL the player picks.
func MPD(raw []byte, steer, first string, ps []Pathway, now time.Time) ([]byte, error) {
	s := string(raw)
	period := strings.Index(s, "<Period")
	end := strings.LastIndex(s, "</MPD>")
	if period < 0 || end < period || !strings.Contains(s, `type="dynamic"`) {
		return nil, errors.New("ffmpeg's MPD is not a live MPD with a Period yet")
	}
	// BaseURLs follow ProgramInformation, as the schema orders them.
	at := period
	if i := strings.Index(s, "</ProgramInformation>"); i >= 0 && i < period {
		at = i + len("</ProgramInformation>")
	}
	var b strings.Builder
	b.WriteString(s[:at])
	for _, p := range ps {
		fmt.Fprintf(&b, "\n\t<BaseURL serviceLocation=\"%s\">%s</BaseURL>", html.EscapeString(p.ID), html.EscapeString(p.Base+"dash/"))
	}
	b.WriteString(s[at:period])
	fmt.Fprintf(&b, "<ContentSteering defaultServiceLocation=\"%s\" queryBeforeStart=\"true\">%s</ContentSteering>\n\t",
		html.EscapeString(first), html.EscapeString(steer))
	b.WriteString(s[period:end])
	fmt.Fprintf(&b, "\t<UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"%s\"/>\n", now.UTC().Format("2006-01-02T15:04:05.000Z"))
	b.WriteString(s[end:])
	return []byte(b.String()), nil
}
