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

	"github.com/cdnsteer/cdnsteer/zones"
)

// Server is the players' listener: HTTP, or HTTPS with a certificate.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	fast *fastServer // plain HTTP: the players' requests (http1.go)
}

// Listen opens the steering listener of st and serves h on it.
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
	s := &Server{ln: ln, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		TLSConfig:         cfg,
	}}
	var plain net.Listener = ln
	if fh, ok := h.(*Handler); ok && cfg == nil {
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

// Shutdown stops accepting and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if s.fast != nil {
		s.fast.Close() // closed by net/http already, unless Serve had not begun
		if ferr := s.fast.wait(ctx); err == nil {
			err = ferr
		}
	}
	return err
}
