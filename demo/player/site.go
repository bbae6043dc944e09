// Package player is the demo's player site: pages that play the demo's
// live stream with real players (hls.js, dash.js) and list which pathway
// every segment came from, the players' libraries from the repository's
// pinned npm install, and the stream's origin: the HLS multivariant
// playlist and the DASH MPD, made per session with the steering server's
// address and one pathway per simulated edge.
package player

import (
	"embed"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"

	"github.com/cdnsteer/cdnsteer/demo/stream"
)

//go:embed ui
var ui embed.FS

// Config is what the site serves.
type Config struct {
	// Stream is the running encoder; nil when there is none, and then
	// StreamErr says why (ffmpeg missing, say) and the pages show it.
	Stream    *stream.Stream
	StreamErr error
	// Pathways are the CDNs' edges, in the policy's order.
	Pathways []stream.Pathway
	// Players is the node_modules folder of web/players (npm ci).
	Players string
}

// Site serves the pages, the libraries and the manifests.
type Site struct {
	cfg   Config
	steer atomic.Pointer[string]
	mux   *http.ServeMux
	edges string // the edges' origins, for connect-src
}

// New returns the site. Manifests answer 503 until SetSteering.
func New(cfg Config) *Site {
	s := &Site{cfg: cfg, mux: http.NewServeMux()}
	s.edges = strings.Join(origins(cfg.Pathways), " ")
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hls", http.StatusFound) })
	s.mux.HandleFunc("GET /hls", s.page("hls.html"))
	s.mux.HandleFunc("GET /dash", s.page("dash.html"))
	s.mux.HandleFunc("GET /ui/{file}", s.asset)
	s.mux.HandleFunc("GET /lib/{lib}", s.library)
	s.mux.HandleFunc("GET /status", s.status)
	s.mux.HandleFunc("GET /live/master.m3u8", s.multivariant)
	s.mux.HandleFunc("GET /live/stream.mpd", s.mpd)
	return s
}

// SetSteering gives the steering endpoint of the steered name, such as
// http://127.0.0.1:8054/steer/stream.live.example.com, once it listens.
func (s *Site) SetSteering(u string) { s.steer.Store(&u) }

// csp allows the pages their own files, and the players the origins they
// fetch from besides the page's: the edges and the steering server.
func (s *Site) csp() string {
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; worker-src blob:; " +
		"connect-src 'self' " + s.edges + " " + origin(s.steering()) + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

func (s *Site) steering() string {
	if p := s.steer.Load(); p != nil {
		return *p
	}
	return ""
}

func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func (s *Site) page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { s.serveUI(w, r, name) }
}

func (s *Site) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if strings.HasSuffix(name, ".html") {
		http.NotFound(w, r)
		return
	}
	s.serveUI(w, r, name)
}

func (s *Site) serveUI(w http.ResponseWriter, r *http.Request, name string) {
	b, err := ui.ReadFile("ui/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", map[string]string{".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[path.Ext(name)])
	h.Set("Content-Security-Policy", s.csp())
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	w.Write(b)
}

// status tells the pages what works: the stream (or why not), the
// players' libraries (or how to install them), the pathways.
func (s *Site) status(w http.ResponseWriter, r *http.Request) {
	type part struct {
		OK      bool   `json:"ok"`
		Version string `json:"version,omitempty"`
		Problem string `json:"problem,omitempty"`
	}
	st := struct {
		Stream   part              `json:"stream"`
		Players  map[string]part   `json:"players"`
		Pathways []stream.Pathway  `json:"pathways"`
		Steering string            `json:"steering"`
		Segment  float64           `json:"segment_seconds"`
		Install  map[string]string `json:"install"`
	}{
		Players:  map[string]part{},
		Pathways: s.cfg.Pathways,
		Steering: s.steering(),
		Segment:  stream.SegmentDuration.Seconds(),
		Install:  map[string]string{"ffmpeg": stream.Install, "players": InstallHint},
	}
	switch {
	case s.cfg.Stream == nil:
		st.Stream.Problem = "no live stream: " + errString(s.cfg.StreamErr)
	case s.cfg.Stream.Err() != nil:
		st.Stream.Problem = "the encoder stopped: " + s.cfg.Stream.Err().Error()
	case !s.cfg.Stream.Ready():
		st.Stream.Problem = "the encoder is starting: the first segments take a few seconds"
	default:
		st.Stream.OK = true
	}
	for name, l := range libraries {
		v, err := l.version(s.cfg.Players)
		if err != nil {
			st.Players[name] = part{Problem: err.Error()}
			continue
		}
		st.Players[name] = part{OK: true, Version: v}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(st)
}

func errString(err error) string {
	if err == nil {
		return "not started"
	}
	return err.Error()
}

// origins are the edges' origins, for the pages' connect-src.
func origins(ps []stream.Pathway) []string {
	var out []string
	for _, p := range ps {
		if o := origin(p.Base); o != "" {
			out = append(out, o)
		}
	}
	return out
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
