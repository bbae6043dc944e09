package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

func TestDoSuccess(t *testing.T) {
	const size, delay = 256 << 10, 50 * time.Millisecond
	type seen struct{ ua, conn string }
	got := make(chan seen, 1)
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.UserAgent(), r.Header.Get("Connection")}
		time.Sleep(delay) // the CDN thinking before its first byte
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.Write(make([]byte, size))
	})
	res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL + "/seg.ts", Timeout: wait, Interval: wait})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if res.Status != 200 || res.Bytes != size {
		t.Errorf("status %d, %d bytes; want 200, %d", res.Status, res.Bytes, size)
	}
	if res.TTFB < delay {
		t.Errorf("ttfb %s < handler delay %s", res.TTFB, delay)
	}
	if res.DNS != 0 || res.TLS != 0 {
		t.Errorf("dns %s, tls %s: neither should happen for http to an IP", res.DNS, res.TLS)
	}
	if res.Connect <= 0 || res.Transfer <= 0 || res.Total < res.Connect+res.TTFB+res.Transfer {
		t.Errorf("phases inconsistent: %+v", res)
	}
	if s := receive(t, "request", got); s.ua != UserAgent || s.conn != "close" {
		t.Errorf("server saw User-Agent %q, Connection %q; want %q, close", s.ua, s.conn, UserAgent)
	}

	sig := res.Signal()
	if sig.CDN != "a" || sig.Source != "probe" || sig.Samples != 1 || !sig.Time.Equal(res.Start) {
		t.Errorf("signal header %+v", sig)
	}
	if *sig.Values[health.TTFB] < float64(delay.Milliseconds()) || *sig.Values[health.ErrorRate] != 0 {
		t.Errorf("ttfb %v ms, error rate %v", *sig.Values[health.TTFB], *sig.Values[health.ErrorRate])
	}
	want := float64(size) * 8 / res.Transfer.Seconds() / 1e6
	if sig.Values[health.Download] == nil || math.Abs(*sig.Values[health.Download]-want) > 1e-9*want {
		t.Errorf("download %v Mbps, want %v", sig.Values[health.Download], want)
	}
	if sig.Values[health.CacheHit] != nil {
		t.Errorf("cache hit ratio %v without cache headers", *sig.Values[health.CacheHit])
	}
}

func TestDoStatusError(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Cache", "MISS")
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	})
	res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL, Timeout: 700 * time.Millisecond})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "status 503") || res.TimedOut() {
		t.Fatalf("err %v, want status 503 and no timeout", res.Err)
	}
	if res.Status != 503 || res.Cache != CacheMiss {
		t.Errorf("status %d cache %s", res.Status, res.Cache)
	}
	sig := res.Signal()
	if *sig.Values[health.ErrorRate] != 1 || *sig.Values[health.TTFB] != 700 || sig.Values[health.Download] != nil {
		t.Errorf("signal: error rate %v, ttfb %v ms, download %v", *sig.Values[health.ErrorRate], *sig.Values[health.TTFB], sig.Values[health.Download])
	}
	if sig.Values[health.CacheHit] == nil || *sig.Values[health.CacheHit] != 0 {
		t.Errorf("cache hit ratio %v, want 0 (the CDN said MISS)", sig.Values[health.CacheHit])
	}
}

func TestDoRedirectIsSuccess(t *testing.T) {
	var hits atomic.Int32
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL + "/seg.ts"})
	if res.Err != nil || res.Status != http.StatusFound {
		t.Fatalf("err %v status %d, want success with 302", res.Err, res.Status)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("%d requests, want 1: redirects must not be followed", n)
	}
}

func TestDoNewConnectionEachProbe(t *testing.T) {
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	c := NewClient(nil)
	for range 3 {
		if res := Do(context.Background(), c, Config{CDN: "a", URL: ts.URL}); res.Err != nil || res.Connect <= 0 {
			t.Fatalf("err %v, connect %s", res.Err, res.Connect)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for 3 probes, want 3 (keep-alives off)", n)
	}
}

func TestDoTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"before first byte", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"during body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000000")
			w.Write(make([]byte, 1000))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const timeout = 100 * time.Millisecond
			ts := server(t, tc.handler)
			res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL, Timeout: timeout})
			if !res.TimedOut() || !errors.Is(res.Err, ErrTimeout) {
				t.Fatalf("err %v, want a timeout", res.Err)
			}
			if res.Total < timeout {
				t.Errorf("total %s < timeout %s", res.Total, timeout)
			}
			sig := res.Signal()
			if *sig.Values[health.TTFB] != 100 || *sig.Values[health.ErrorRate] != 1 || sig.Values[health.Download] != nil {
				t.Errorf("signal: ttfb %v ms, error rate %v, download %v; want 100, 1, nil", *sig.Values[health.TTFB], *sig.Values[health.ErrorRate], sig.Values[health.Download])
			}
		})
	}
}

func TestDoCallerCancelIsNotTimeout(t *testing.T) {
	started := make(chan struct{})
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	res := Do(ctx, NewClient(nil), Config{CDN: "a", URL: ts.URL, Timeout: wait, Interval: wait})
	if res.Err == nil || res.TimedOut() {
		t.Fatalf("err %v, want an error that is not a timeout", res.Err)
	}
}

func TestDoConnectionReset(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.(*net.TCPConn).SetLinger(0) // close with RST, not FIN
		conn.Close()
	})
	res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL, Timeout: 300 * time.Millisecond})
	if res.Err == nil || res.TimedOut() || res.Status != 0 {
		t.Fatalf("err %v status %d, want a transport error", res.Err, res.Status)
	}
	if !strings.HasPrefix(res.Err.Error(), "probe a: ") {
		t.Errorf("err %q lacks the cdn", res.Err)
	}
	if sig := res.Signal(); *sig.Values[health.ErrorRate] != 1 || *sig.Values[health.TTFB] != 300 {
		t.Errorf("signal: error rate %v, ttfb %v ms; want 1, 300", *sig.Values[health.ErrorRate], *sig.Values[health.TTFB])
	}
}

func TestDoCacheHeaders(t *testing.T) {
	for _, tc := range []struct {
		header, value string
		want          CacheStatus
	}{
		{"X-Cache", "HIT from x", CacheHit},
		{"X-Cache", "TCP_MISS", CacheMiss},
		{"CF-Cache-Status", "HIT", CacheHit},
		{"CF-Cache-Status", "MISS", CacheMiss},
		{"CF-Cache-Status", "DYNAMIC", CacheMiss},
		{"Age", "30", CacheHit},
		{"", "", CacheUnknown},
	} {
		t.Run(tc.header+"="+tc.value, func(t *testing.T) {
			ts := server(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set(tc.header, tc.value)
				}
				w.Write([]byte("segment"))
			})
			res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL})
			if res.Err != nil || res.Cache != tc.want {
				t.Fatalf("err %v cache %s, want %s", res.Err, res.Cache, tc.want)
			}
			r := res.Signal().Values[health.CacheHit]
			switch tc.want {
			case CacheHit:
				if r == nil || *r != 1 {
					t.Errorf("hit ratio %v, want 1", r)
				}
			case CacheMiss:
				if r == nil || *r != 0 {
					t.Errorf("hit ratio %v, want 0", r)
				}
			default:
				if r != nil {
					t.Errorf("hit ratio %v, want nil", *r)
				}
			}
		})
	}
}

func TestDoAddressAndHost(t *testing.T) {
	hosts := make(chan string, 1)
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { hosts <- r.Host })
	addr := ts.Listener.Addr().String()
	for _, tc := range []struct{ host, want string }{
		{"", "cdn.invalid"},
		{"edge.example", "edge.example"},
	} {
		// cdn.invalid never resolves: only dialling Address can reach the server.
		res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: "http://cdn.invalid/seg.ts", Address: addr, Host: tc.host})
		if res.Err != nil {
			t.Fatalf("host %q: %v", tc.host, res.Err)
		}
		if got := receive(t, "request", hosts); got != tc.want {
			t.Errorf("host override %q: server saw Host %q, want %q", tc.host, got, tc.want)
		}
		if res.DNS != 0 {
			t.Errorf("dns %s with a fixed address", res.DNS)
		}
	}
}

func TestDoAddressTLS(t *testing.T) {
	cert, pool := selfSigned(t, "cdn.invalid")
	type seen struct{ sni, host string }
	got := make(chan seen, 1)
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.TLS.ServerName, r.Host}
	}))
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.StartTLS()
	t.Cleanup(ts.Close)

	res := Do(context.Background(), NewClient(&tls.Config{RootCAs: pool}), Config{
		CDN: "a", URL: "https://cdn.invalid/seg.ts", Address: ts.Listener.Addr().String(), Host: "other.example",
	})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if s := receive(t, "request", got); s.sni != "cdn.invalid" || s.host != "other.example" {
		t.Errorf("server saw SNI %q Host %q, want cdn.invalid and other.example", s.sni, s.host)
	}
	if res.TLS <= 0 {
		t.Errorf("tls phase %s", res.TLS)
	}
}

func TestDoAddressNeedsProbeClient(t *testing.T) {
	res := Do(context.Background(), &http.Client{}, Config{CDN: "a", URL: "http://cdn.invalid/", Address: "127.0.0.1:9"})
	if res.Err == nil || !strings.Contains(res.Err.Error(), "NewClient") {
		t.Fatalf("err %v, want a refusal", res.Err)
	}
}

func TestDoMaxBytes(t *testing.T) {
	const max = 64 << 10
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 1<<20))
	})
	res := Do(context.Background(), NewClient(nil), Config{CDN: "a", URL: ts.URL, MaxBytes: max})
	if res.Err != nil || res.Bytes != max {
		t.Fatalf("err %v, %d bytes; want %d", res.Err, res.Bytes, max)
	}
	if res.Signal().Values[health.Download] == nil {
		t.Error("no download rate for a capped read")
	}
}

func TestSignalEdges(t *testing.T) {
	empty := Result{CDN: "a", Status: 204, TTFB: 5 * time.Millisecond}.Signal()
	if empty.Values[health.Download] != nil || *empty.Values[health.TTFB] != 5 {
		t.Errorf("empty body: download %v, ttfb %v", empty.Values[health.Download], *empty.Values[health.TTFB])
	}
	// A Result built without Do has no Timeout; failure still reads slow.
	failed := Result{CDN: "a", Err: errors.New("boom")}.Signal()
	if *failed.Values[health.TTFB] != float64(DefaultTimeout.Milliseconds()) {
		t.Errorf("ttfb %v, want the default timeout", *failed.Values[health.TTFB])
	}
}
