// Package admin serves cdnsteer's HTTP endpoint: metrics, liveness,
// readiness, the JSON API under /api/v1 (state, history, pushed signals,
// overrides, annotations, explain, and the demo's edges) and the live view
// at /. Writes need the bearer token from the admin token file; bad input
// gets a 4xx JSON error and changes nothing.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cdnsteer/cdnsteer/demo/edges"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/health/escalation"
)

// Config wires the endpoint to the rest of the process.
type Config struct {
	// Addr is the address to listen on (server.http).
	Addr string
	// Gatherer supplies /metrics.
	Gatherer prometheus.Gatherer
	// Ready reports whether a policy is loaded and the DNS listeners are up.
	Ready func() bool
	// NotReady, when set, says why the server should take no traffic
	// although Ready holds ("" when nothing stops it): /readyz answers
	// 503 with it as "reason".
	NotReady func() string
	// Engine is the health engine behind state, signals and overrides;
	// nil makes those endpoints answer 503.
	Engine *health.Engine
	// TokenFile holds the bearer token for write endpoints
	// (server.admin_token_file). It is read at Listen, re-read when it
	// changes and on ReloadToken; empty disables writes (403).
	TokenFile string
	// Annotations is the event timeline, built by NewAnnotations from the
	// annotations the engine restored and the decision log to record new
	// ones to. Nil gives a timeline that lives in memory only.
	Annotations *Annotations
	// Explain answers GET /api/v1/explain; nil makes it answer 503.
	Explain ExplainFunc
	// History keeps the recent past for GET /api/v1/history and the live
	// view's charts. Nil gives NewHistory(DefaultHistoryWindow,
	// DefaultHistoryInterval) when there is an engine. Serve samples
	// Engine's view into it at the interval it was made with.
	History *History
	// Demo holds the simulated edges of `cdnsteer demo`, served under
	// /api/v1/demo/ and in the live view's demo panel. Nil (not a demo)
	// makes that whole tree a 404.
	Demo *edges.Fleet
	// Escalations opens, lists and closes escalations to Alertmanager;
	// nil makes /api/v1/escalations answer 503.
	Escalations *escalation.Manager
	// Fleet replicates overrides, annotations and pushed signals written
	// here to the other instances and answers GET /api/v1/fleet; nil
	// stands alone.
	Fleet Replicator
	// PolicyHash is the SHA-256 of the policy file in force, shown in
	// GET /api/v1/state; nil leaves it out.
	PolicyHash func() string
	// Now is the clock (time.Now when nil), for tests and simulation.
	Now func() time.Time
	// Logger receives errors and an audit line per override and annotation
	// (slog.Default when nil).
	Logger *slog.Logger
}

// Server is the HTTP endpoint.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	log  *slog.Logger
	auth *auth
	cfg  Config

	stopSampler context.CancelFunc
	sampling    chan struct{}
}

// Listen binds the endpoint and reads the admin token file; Serve starts
// answering. It fails if the address cannot be bound or a configured token
// file cannot be read.
func Listen(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Annotations == nil {
		cfg.Annotations = NewAnnotations(nil, nil)
	}
	if cfg.History == nil && cfg.Engine != nil {
		cfg.History = NewHistory(DefaultHistoryWindow, DefaultHistoryInterval)
	}
	log := cfg.Logger
	au, err := newAuth(cfg.TokenFile, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		au.close()
		return nil, fmt.Errorf("listen http %s: %w", cfg.Addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if cfg.Ready != nil && !cfg.Ready() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready"})
			return
		}
		if cfg.NotReady != nil {
			if why := cfg.NotReady(); why != "" {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": why})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	(&api{cfg: cfg, auth: au}).register(mux)
	registerUI(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return &Server{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
		},
		ln:   ln,
		log:  log,
		auth: au,
		cfg:  cfg,
	}, nil
}

// ReloadToken re-reads the admin token file now (on SIGHUP, say). On error
// writes are refused until a later reload succeeds. Without a token file it
// does nothing.
func (s *Server) ReloadToken() error { return s.auth.reload() }

// Addr is the bound address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers until Shutdown, and samples the engine into the history.
func (s *Server) Serve() {
	if s.cfg.Engine != nil && s.cfg.History != nil && s.sampling == nil {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopSampler, s.sampling = cancel, make(chan struct{})
		go func() {
			defer close(s.sampling)
			s.cfg.History.run(ctx, s.cfg.Engine, s.cfg.Now)
		}()
	}
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http endpoint stopped", "err", err)
		}
	}()
}

// Shutdown stops the endpoint, letting requests in flight finish, and
// stops watching the token file.
func (s *Server) Shutdown(ctx context.Context) error {
	s.auth.close()
	if s.sampling != nil {
		s.stopSampler()
		<-s.sampling
	}
	err := s.srv.Shutdown(ctx)
	// Shutdown closes the listener only if Serve ran.
	if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
		err = cerr
	}
	return err
}
