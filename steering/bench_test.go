package steering

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

// BenchmarkHandler is one steering request through the handler, without
// the network: the handler's own cost per manifest.
func BenchmarkHandler(b *testing.B) {
	path := filepath.Join(b.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(testPolicy), 0o600); err != nil {
		b.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(func() State { return State{Snap: snap} }, NewMetrics(prometheus.NewRegistry()))
	req := httptest.NewRequest(http.MethodGet, "/steer/live.example.com?_HLS_pathway=cf&_HLS_throughput=5000000&sid=abc123", nil)
	req.RemoteAddr = "127.0.0.1:40000"
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkFastPath is one request head through the fast path's parser,
// the handler and the reply's formatting, without the network: what a
// keep-alive request costs in user space besides the read and the write.
func BenchmarkFastPath(b *testing.B) {
	path := filepath.Join(b.TempDir(), "policy.toml")
	if err := os.WriteFile(path, []byte(testPolicy), 0o600); err != nil {
		b.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	h := NewHandler(func() State { return State{Snap: snap} }, NewMetrics(prometheus.NewRegistry()))
	s := &fastServer{h: h}
	head := []byte("GET /steer/live.example.com?_HLS_pathway=cf&_HLS_throughput=5000000&sid=01-000000001 HTTP/1.1\r\n" +
		"Host: 127.0.0.1:8054\r\nX-Forwarded-For: 5.6.7.8\r\n\r\n")
	peer := netip.MustParseAddr("127.0.0.1")
	out, body := make([]byte, 0, 1024), make([]byte, 0, 512)
	fr := new(fastRequest)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !parseHead(head, fr) {
			b.Fatal("not taken")
		}
		fr.req.peer = peer
		out, body = s.reply(out[:0], body, fr)
	}
}
