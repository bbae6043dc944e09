package player

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/cdnsteer/cdnsteer/demo/stream"
)

// session is the request's sid (the page's), or a new one: the steering
// server keys a session's pathway on it, so each viewer gets its own.
func session(r *http.Request) string {
	if sid := r.URL.Query().Get("sid"); sid != "" && len(sid) <= 64 {
		return sid
	}
	return rand.Text()
}

// steered is the steering URL for a session and, when ask, the pathway
// the steering server puts first for it: where an HLS player starts. It
// reports its pathway on every steering request, and the server keeps a
// healthy one first, so starting anywhere else would pin it there. (A
// DASH player asks before it starts, queryBeforeStart, and reports no
// pathway then; its MPD, reloaded every second, need not ask.)
func (s *Site) steered(ctx context.Context, sid string, ask bool) (uri, first string) {
	uri = s.steering() + "?sid=" + url.QueryEscape(sid)
	first = s.cfg.Pathways[0].ID
	if !ask {
		return uri, first
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return uri, first
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return uri, first
	}
	defer resp.Body.Close()
	var m struct {
		Priority []string `json:"PATHWAY-PRIORITY"`
	}
	if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&m) == nil && len(m.Priority) > 0 {
		first = m.Priority[0]
	}
	return uri, first
}

// unavailable answers 503 with why the stream cannot be played.
func (s *Site) unavailable(w http.ResponseWriter) bool {
	msg := ""
	switch {
	case s.cfg.Stream == nil:
		msg = "no live stream: " + errString(s.cfg.StreamErr)
	case s.cfg.Stream.Err() != nil:
		msg = "the encoder stopped: " + s.cfg.Stream.Err().Error()
	case s.steering() == "":
		msg = "the steering listener is not up yet"
	case len(s.cfg.Pathways) == 0:
		msg = "no edges to serve the stream"
	default:
		return false
	}
	http.Error(w, msg, http.StatusServiceUnavailable)
	return true
}

func (s *Site) multivariant(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w) {
		return
	}
	uri, first := s.steered(r.Context(), session(r), true)
	h := w.Header()
	h.Set("Content-Type", "application/vnd.apple.mpegurl")
	h.Set("Cache-Control", "no-store")
	h.Set("Access-Control-Allow-Origin", "*")
	w.Write(stream.Multivariant(uri, first, s.cfg.Pathways))
}

func (s *Site) mpd(w http.ResponseWriter, r *http.Request) {
	if s.unavailable(w) {
		return
	}
	raw, err := os.ReadFile(filepath.Join(s.cfg.Stream.Dir(), stream.DASHMPD))
	if err != nil {
		http.Error(w, "the encoder has not written its MPD yet", http.StatusServiceUnavailable)
		return
	}
	uri, first := s.steered(r.Context(), session(r), false)
	b, err := stream.MPD(raw, uri, first, s.cfg.Pathways, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/dash+xml")
	h.Set("Cache-Control", "no-store")
	h.Set("Access-Control-Allow-Origin", "*")
	w.Write(b)
}
