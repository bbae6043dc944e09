package steering

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/zones"
)

// rawConn is a client connection to e's listener speaking bytes.
func rawConn(t *testing.T, e *env) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func readResponse(t *testing.T, r *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(r, &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestFastPathPipelined: requests sent in one write are answered in
// order, each with its own manifest, on one connection.
func TestFastPathPipelined(t *testing.T) {
	e := start(t, testPolicy)
	c, r := rawConn(t, e)
	var b strings.Builder
	for _, sid := range []string{"a1", "b2", "c3"} {
		b.WriteString("GET /steer/live.example.com?sid=" + sid + "&_HLS_pathway=cf HTTP/1.1\r\nHost: x\r\n\r\n")
	}
	b.WriteString("HEAD /steer/live.example.com?sid=d4 HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := io.WriteString(c, b.String()); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{"a1", "b2", "c3"} {
		resp, body := readResponse(t, r, "GET")
		if resp.StatusCode != 200 || !strings.Contains(body, `"RELOAD-URI":"/steer/live.example.com?sid=`+sid+`"`) ||
			resp.Header.Get("Date") == "" || resp.ContentLength != int64(len(body)) || resp.Close {
			t.Fatalf("%s: %d %v %q", sid, resp.StatusCode, resp.Header, body)
		}
	}
	resp, body := readResponse(t, r, "HEAD")
	if resp.StatusCode != 200 || body != "" || resp.ContentLength < 50 {
		t.Fatalf("HEAD: %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

// TestFastPathConnectionClose: the reply says Connection: close and the
// server closes.
func TestFastPathConnectionClose(t *testing.T) {
	e := start(t, testPolicy)
	c, r := rawConn(t, e)
	io.WriteString(c, "GET /steer/live.example.com HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, _ := readResponse(t, r, "GET")
	if resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if n, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("connection still open after Connection: close (%v %v)", n, err)
	}
}

// TestFastPathHandsOver: a request the fast path does not take goes to
// net/http with the bytes already read, and the connection stays
// usable; malformed requests get net/http's 400, never a crash.
func TestFastPathHandsOver(t *testing.T) {
	e := start(t, testPolicy)
	c, r := rawConn(t, e)
	io.WriteString(c, "GET /steer/live.example.com?sid=one HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /steer/live.example.com HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"+
		"GET /steer/live.example.com?sid=three HTTP/1.1\r\nHost: x\r\nX-Long: "+strings.Repeat("l", 2*readBufSize)+"\r\n\r\n"+
		"GET /steer/live.example.com?sid=four HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, body := readResponse(t, r, "GET")
	if resp.StatusCode != 200 || !strings.Contains(body, "sid=one") {
		t.Fatalf("one: %d %q", resp.StatusCode, body)
	}
	resp, body = readResponse(t, r, "POST")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" || !strings.Contains(body, `"reason":"method"`) {
		t.Fatalf("POST: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	for _, sid := range []string{"three", "four"} {
		resp, body = readResponse(t, r, "GET")
		if resp.StatusCode != 200 || !strings.Contains(body, "sid="+sid) || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("%s: %d %q", sid, resp.StatusCode, body)
		}
	}

	for _, bad := range []string{
		"GET /steer/live.example.com HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
		"GET /steer/live.example.com HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
		"GET /steer/live.example.com HTTP/1.1\r\n\r\n", // no Host
		"GET /steer/live.example.com HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n",
		"GET /steer/live.example.com HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
	} {
		c, r := rawConn(t, e)
		io.WriteString(c, bad)
		resp, _ := readResponse(t, r, "GET")
		if resp.StatusCode != 400 {
			t.Errorf("%q: %d, want net/http's 400", bad, resp.StatusCode)
		}
	}
	// HTTP/1.0 and an escaped path are net/http's, answered alike.
	c, r = rawConn(t, e)
	io.WriteString(c, "GET /steer/live.example%2ecom?sid=ten HTTP/1.0\r\n\r\n")
	resp, body = readResponse(t, r, "GET")
	if resp.StatusCode != 200 || !strings.Contains(body, "sid=ten") {
		t.Fatalf("HTTP/1.0: %d %q", resp.StatusCode, body)
	}
}

// TestFastPathAnswersAsNetHTTP: the fast path and net/http answer the same
// requests with the same status, headers and body.
func TestFastPathAnswersAsNetHTTP(t *testing.T) {
	e := start(t, testPolicy)
	src := func() State { return State{Snap: e.snap} }
	ref := httptest.NewServer(NewHandler(src, NewMetrics(prometheus.NewRegistry())))
	defer ref.Close()
	for _, q := range []string{
		"/steer/live.example.com?_HLS_pathway=cf&_HLS_throughput=5000000&sid=abc",
		"/steer/LIVE.example.com.?_DASH_pathway=fastly&_DASH_throughput=900",
		"/steer/live.example.com?sid=a%20b%22c",
		"/steer/nope.example.com",
		"/steer/live.example.com?_HLS_pathway=zz",
		"/steer/live.example.com?_HLS_throughput=x",
	} {
		for _, method := range []string{"GET", "HEAD", "OPTIONS"} {
			var got [2]string
			for i, base := range []string{e.url, ref.URL} {
				req, _ := http.NewRequest(method, base+q, nil)
				req.Header.Set("X-Forwarded-For", "127.9.8.7")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var h []string
				for k, v := range resp.Header {
					if k != "Date" {
						h = append(h, k+": "+strings.Join(v, ","))
					}
				}
				slices.Sort(h)
				got[i] = resp.Status + "\n" + strings.Join(h, "\n") + "\n" + string(b)
			}
			if got[0] != got[1] {
				t.Errorf("%s %s:\nfast path:\n%s\nnet/http:\n%s", method, q, got[0], got[1])
			}
		}
	}
}

// TestFastPathShutdown: Shutdown closes idle keep-alive connections and
// returns; a later request finds the listener closed.
func TestFastPathShutdown(t *testing.T) {
	path := t.TempDir() + "/policy.toml"
	if err := os.WriteFile(path, []byte(testPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	snap, err := zones.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	src := func() State { return State{Snap: snap} }
	s, err := Listen(snap.Steering, NewHandler(src, NewMetrics(prometheus.NewRegistry())), slogDiscard())
	if err != nil {
		t.Fatal(err)
	}
	if s.fast == nil {
		t.Fatal("a plain listener for the steering handler without the fast path")
	}
	var conns []*bufio.Reader
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		io.WriteString(c, "GET /steer/live.example.com HTTP/1.1\r\nHost: x\r\n\r\n")
		r := bufio.NewReader(c)
		if resp, _ := readResponse(t, r, "GET"); resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		conns = append(conns, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, r := range conns {
		if _, err := r.ReadByte(); err != io.EOF {
			t.Errorf("connection %d still open after Shutdown: %v", i, err)
		}
	}
	if c, err := net.Dial("tcp", s.Addr().String()); err == nil {
		c.Close()
		t.Error("listener still accepting after Shutdown")
	}
}

// FuzzParseHead: whatever the fast path accepts, net/http reads as the
// same request: method, path, query, X-Forwarded-For and whether the
// connection closes. (What it refuses, net/http answers.)
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET /steer/live.example.com?_HLS_pathway=cf&sid=1 HTTP/1.1\r\nHost: a:80\r\nX-Forwarded-For: 1.2.3.4, 5.6.7.8\r\nx-forwarded-for: 9.9.9.9\r\n\r\n",
		"HEAD /steer/x HTTP/1.1\r\nhost: [::1]:8054\r\nConnection: keep-alive, Close\r\n\r\n",
		"OPTIONS /steer/ HTTP/1.1\r\nHost:\r\nUser-Agent:  hls.js \t\r\n\r\n",
		"GET /steer/a HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"GET /steer/a?b=%zz#f HTTP/1.0\r\nHost: a\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		// a head as the server cuts it: up to the first empty line
		if i := bytes.Index(head, crlfcrlf); i >= 0 {
			head = head[:i+4]
		} else {
			head = append(head, crlfcrlf...)
		}
		var fr fastRequest
		if !parseHead(head, &fr) {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(head)))
		if err != nil {
			t.Fatalf("fast path took %q, net/http refuses it: %v", head, err)
		}
		xff := r.Header["X-Forwarded-For"]
		if r.Method != fr.req.method || r.URL.Path != fr.req.path || r.URL.RawQuery != fr.req.rawQuery ||
			!slices.Equal(xff, fr.req.xff) || r.Close != fr.close {
			t.Fatalf("%q: fast path %+v close=%v, net/http %s %q %q xff=%q close=%v", head, fr.req, fr.close, r.Method, r.URL.Path, r.URL.RawQuery, xff, r.Close)
		}
		if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
			t.Fatalf("%q: fast path took a request with a body", head)
		}
	})
}
