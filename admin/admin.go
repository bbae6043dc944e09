// Package admin serves cdnsteer's HTTP endpoint: metrics, liveness,
// readiness, the JSON API under /api/v1 (state, history, pushed signals,
// overrides, annotations, explain, and the demo's edges) and the live view
// at /. Reads need a read token and writes a write token, both named in
// the admin token file (tokens.go); who wrote is recorded with every
// change. The Host header is checked against the allowed names, and the
// endpoint serves HTTPS when given a certificate (door.go). Bad input
// gets a 4xx JSON error and changes nothing.
package admin

import (
	"context"
	"crypto/x509"
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
	// TokenFile holds the named bearer tokens (server.admin_token_file,
	// LoadTokens). It is read at Listen, re-read when it changes and on
	// ReloadToken; empty disables writes (403) and leaves reads open.
	TokenFile string
	// OpenReads lets reads (GET of the API) through without a token
	// (server.http_open_reads); refused for an Addr beyond loopback.
	OpenReads bool
	// AllowedHosts are the names the Host header may carry
	// (server.http_allowed_hosts); empty: the bind address, the loopback
	// names for a loopback bind and the certificate's names.
	AllowedHosts []string
	// TLSCert and TLSKey serve HTTPS (server.http_tls_cert,
	// http_tls_key); both empty: HTTP. Re-read on ReloadToken.
	TLSCert, TLSKey string
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
	// Decisions keeps the decision log's last entries for GET
	// /api/v1/decisions, the live view's change feed; nil makes it
	// answer 503.
	Decisions *DecisionFeed
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
	keys *keyPair // nil: plain HTTP
	cfg  Config

	stopSampler context.CancelFunc
	sampling    chan struct{}
}

// Listen binds the endpoint and reads the admin token file and TLS
// certificate; Serve starts answering. It fails if the address cannot be
// bound, a configured file cannot be used, or the address is beyond
// loopback without TLS and tokens.
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
	if err := checkDoor(cfg); err != nil {
		return nil, err
	}
	var keys *keyPair
	var leaf *x509.Certificate
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		var err error
		if keys, err = newKeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
			return nil, err
		}
		leaf = keys.cur.Load().Leaf
		if w := expiryWarning(leaf, cfg.Now()); w != "" {
			log.Warn(w, "file", cfg.TLSCert)
		}
	}
	hosts := normHosts(cfg.AllowedHosts)
	if len(hosts) == 0 {
		hosts = defaultHosts(cfg.Addr, leaf)
	}
	au, err := newAuth(cfg.TokenFile, cfg.OpenReads, log)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		au.close()
		return nil, fmt.Errorf("listen http %s: %w", cfg.Addr, err)
	}
	if !loopback(cfg.Addr) {
		log.Warn("the HTTP endpoint listens beyond loopback: anyone who reaches it may try tokens; keep it on a management network",
			"addr", cfg.Addr, "tls", keys != nil, "allowed_hosts", hosts)
	}
	a := &api{cfg: cfg, auth: au}
	mux := http.NewServeMux()
	metrics := promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)})
	if !loopback(cfg.Addr) && !au.openReads {
		// Off loopback the series (scores, weights, telemetry) are for
		// whoever holds a read token: Prometheus sends one with
		// authorization.credentials_file.
		metrics = a.read(metrics.ServeHTTP)
	}
	mux.Handle("GET /metrics", metrics)
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
	a.register(mux)
	registerUI(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	srv := &http.Server{
		Handler:           guardHost(hosts, mux),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if keys != nil {
		srv.TLSConfig = keys.tlsConfig()
	}
	return &Server{srv: srv, ln: ln, log: log, auth: au, keys: keys, cfg: cfg}, nil
}

// ReloadToken re-reads the admin token file and the TLS certificate now
// (on SIGHUP, say). A token file that fails refuses every request that
// needs a token until a later reload succeeds; a certificate that fails
// leaves the one in force serving.
func (s *Server) ReloadToken() error {
	err := s.auth.reload()
	if s.keys != nil {
		if kerr := s.keys.load(); kerr != nil {
			s.log.Error("admin TLS certificate not reloaded: the previous one still serves", "err", kerr)
			err = errors.Join(err, kerr)
		}
	}
	return err
}

// TLS tells whether the endpoint serves HTTPS.
func (s *Server) TLS() bool { return s.keys != nil }

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
		serve := func() error { return s.srv.Serve(s.ln) }
		if s.keys != nil {
			// The certificate comes from TLSConfig.GetCertificate.
			serve = func() error { return s.srv.ServeTLS(s.ln, "", "") }
		}
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
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
