package steering

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// Server is the players' listener: HTTP, or HTTPS with a certificate.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	fast *fastServer // plain HTTP: the players' requests (http1.go)
	qoe  *QoE        // the handler's CMCD receiver, if any

	stopQoE context.CancelFunc // ends RunQoE's publisher
	qoeDone chan struct{}      // closed when it has
}

// Listen opens the steering listener of st and serves h on it; a
// *Handler with a QoE receiver (CollectQoE) gets POST /qoe/cmcd as well.
func Listen(st *zones.Steering, h http.Handler, log *slog.Logger) (*Server, error) {
	var cfg *tls.Config
	if st.TLSCert != "" {
		// Loaded before binding, so that a bad certificate fails the start
		// rather than every handshake.
		cert, err := tls.LoadX509KeyPair(st.TLSCert, st.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("steering TLS: %w", err)
		}
		cfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", st.Listen)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/steer/", h)
	mux.Handle("/", h) // a wrong path gets the handler's JSON 404
	fh, _ := h.(*Handler)
	var q *QoE
	if fh != nil && fh.qoe != nil {
		// Never on the fast path (a POST): net/http reads the batch.
		q = fh.qoe
		mux.Handle("/qoe/cmcd", q)
	}
	s := &Server{ln: ln, qoe: q, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		TLSConfig:         cfg,
	}}
	var plain net.Listener = ln
	if fh != nil && cfg == nil {
		s.fast = newFastServer(ln, fh, s.srv.IdleTimeout, s.srv.ReadHeaderTimeout, log)
		plain = s.fast // net/http gets what the fast path hands over
	}
	go func() {
		var err error
		if cfg != nil {
			err = s.srv.ServeTLS(ln, "", "")
		} else {
			err = s.srv.Serve(plain)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("steering listener", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// RunQoE publishes the CMCD windows to push every interval (QoE.Run)
// until Shutdown; nothing without a QoE receiver. Call it once.
func (s *Server) RunQoE(every time.Duration, push func(...health.Signal)) {
	if s.qoe == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopQoE, s.qoeDone = cancel, make(chan struct{})
	go func() {
		defer close(s.qoeDone)
		s.qoe.Run(ctx, every, push)
	}()
}

// Shutdown stops accepting, waits for requests in flight, and stops the
// QoE publisher.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if s.stopQoE != nil {
		s.stopQoE()
		<-s.qoeDone
	}
	if s.fast != nil {
		s.fast.Close() // closed by net/http already, unless Serve had not begun
		if ferr := s.fast.wait(ctx); err == nil {
			err = ferr
		}
	}
	return err
}
