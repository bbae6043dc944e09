package edges

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MediaPrefix is where an edge serves the demo's live stream, when it has
// one: playlists and segments, under the same knobs as the test object,
// so that breaking an edge breaks what players fetch from it too.
const MediaPrefix = "/media/"

// Media is a live stream's files, by name below MediaPrefix.
type Media interface {
	File(name string) (body []byte, ctype string, ok bool)
}

type mediaBox struct{ m Media }

// SetMedia has the edge serve m under MediaPrefix (nil: 404 there).
func (e *Edge) SetMedia(m Media) { e.media.Store(&mediaBox{m}) }

// serveMedia answers a player's request for a playlist or a segment as
// the knobs say. Players fetch from other origins than the page's, so
// the answers allow any (CORS), as CDNs serving browsers do.
func (e *Edge) serveMedia(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Server", "cdnsteer-edgesim")
	box := e.media.Load()
	name := strings.TrimPrefix(r.URL.Path, MediaPrefix)
	if box == nil || box.m == nil {
		http.Error(w, "simulated edge "+e.name+": no live stream in this demo", http.StatusNotFound)
		return
	}
	k := e.Knobs()
	e.mediaRequests.Add(1)
	if !sleep(r.Context(), time.Duration(k.LatencyMs*float64(time.Millisecond))) {
		return
	}
	if rand.Float64() < k.ErrorRate {
		e.mediaErrors.Add(1)
		h.Set("Retry-After", "1")
		http.Error(w, "simulated edge "+e.name+": overloaded", http.StatusServiceUnavailable)
		return
	}
	body, ctype, ok := box.m.File(name)
	if !ok {
		http.Error(w, "simulated edge "+e.name+": no such file", http.StatusNotFound)
		return
	}
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if strings.HasSuffix(name, ".m3u8") {
		h.Set("Cache-Control", "no-cache")
	} else {
		h.Set("Cache-Control", "max-age=60")
	}
	h.Set("X-Cache", "HIT from edgesim-"+e.name)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		send(w, r, body, k.BandwidthMbps)
	}
}

// send writes body in chunks, paced to mbps, flushing each chunk so that
// the client sees the rate. It stops early when the client goes away.
func send(w http.ResponseWriter, r *http.Request, body []byte, mbps float64) {
	rc := http.NewResponseController(w)
	// The headers go out now, so that the client's first byte marks the
	// end of the think time and the paced body is the transfer.
	_ = rc.Flush()
	start := time.Now()
	bitsPerSecond := mbps * 1e6
	for sent := 0; sent < len(body); {
		n := min(chunk, len(body)-sent)
		if _, err := w.Write(body[sent : sent+n]); err != nil {
			return
		}
		sent += n
		_ = rc.Flush()
		due := start.Add(time.Duration(float64(sent*8) / bitsPerSecond * float64(time.Second)))
		if !sleep(r.Context(), time.Until(due)) {
			return
		}
	}
}
