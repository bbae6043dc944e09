package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cdnsteer/cdnsteer/demo/edges"
	"github.com/cdnsteer/cdnsteer/demo/player"
	"github.com/cdnsteer/cdnsteer/demo/stream"
)

// demoSteeredName is the name the demo's players steer: the demo policy's.
const demoSteeredName = "stream.live.example.com"

// defaultPlayers is where the demo looks for the players' node_modules:
// $CDNSTEER_PLAYERS, else web/players/node_modules under the working
// folder (the repository's root, for `go run ./cmd/cdnsteer demo`).
func defaultPlayers() string {
	if p := os.Getenv("CDNSTEER_PLAYERS"); p != "" {
		return p
	}
	return filepath.Join("web", "players", "node_modules")
}

// demoPlayers is the demo's live stream (ffmpeg, served by every edge)
// and its player site. A nil *demoPlayers is a demo without them.
type demoPlayers struct {
	stream *stream.Stream
	err    error // why there is no stream
	site   *player.Site
	srv    *http.Server
	ln     net.Listener
}

// startPlayers starts ffmpeg writing under dir, has every edge serve its
// files, and opens the player site on cfg.Player. Without ffmpeg the
// demo runs on, and the pages say how to install it.
func startPlayers(ctx context.Context, cfg demoConfig, dir string, fleet *edges.Fleet, log *slog.Logger) (*demoPlayers, error) {
	if cfg.Player == "" {
		return nil, nil
	}
	p := &demoPlayers{}
	if ffmpeg, err := stream.Find(); err != nil {
		p.err = err
		log.Warn("no live stream for the player pages", "err", err)
	} else if p.stream, err = stream.Start(ctx, ffmpeg, filepath.Join(dir, "stream"), log); err != nil {
		p.err = err
		log.Warn("no live stream for the player pages", "err", err)
	}
	var pathways []stream.Pathway
	for _, e := range fleet.Edges() {
		if p.stream != nil {
			e.SetMedia(p.stream)
		}
		pathways = append(pathways, stream.Pathway{ID: e.Name(), Base: strings.TrimSuffix(e.URL(), edges.ObjectPath) + edges.MediaPrefix})
	}
	p.site = player.New(player.Config{Stream: p.stream, StreamErr: p.err, Pathways: pathways, Players: cfg.Players})
	ln, err := net.Listen("tcp", cfg.Player)
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("player site: %w", err)
	}
	p.ln = ln
	p.srv = &http.Server{Handler: p.site, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("player site", "err", err)
		}
	}()
	return p, nil
}

func (p *demoPlayers) addr() string {
	if p == nil || p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

// steering tells the site where the steering listener is, once it is up.
func (p *demoPlayers) steering(addr string) {
	if p == nil || addr == "" {
		return
	}
	p.site.SetSteering("http://" + addr + "/steer/" + demoSteeredName)
}

func (p *demoPlayers) print(w io.Writer) {
	if p == nil {
		return
	}
	web := "http://" + p.addr()
	fmt.Fprintf(w, "Players: the live stream through the edges, steered by content steering:\n  %s/hls   (hls.js)\n  %s/dash  (dash.js)\n", web, web)
	if p.err != nil {
		fmt.Fprintf(w, "  no live stream: %v\n", p.err)
	}
	fmt.Fprintf(w, "  (the pages need the pinned players: %s)\n\n", player.InstallHint)
}

// stop ends the site and ffmpeg.
func (p *demoPlayers) stop() {
	if p == nil {
		return
	}
	if p.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		p.srv.Shutdown(ctx)
	}
	if p.stream != nil {
		p.stream.Stop()
	}
}
