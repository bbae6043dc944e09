package steering

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// fastServer answers the players' plain HTTP/1.1 steering requests itself
// and hands every other connection to net/http. Under load most of a
// manifest's cost was net/http's, not the handler's (perf, 50 keep-alive
// connections on one core: request parsing, header maps, a goroutine and
// a read per request to watch the connection, the header sort): a
// connection here is a goroutine reading into one buffer and writing
// each batch of replies with one write.
//
// The fast path takes only what it parses completely: GET, HEAD or
// OPTIONS of /steer/{name} (name of [A-Za-z0-9._-]) in HTTP/1.1 with a
// Host, no body, no Expect, no Upgrade and a head within readBufSize.
// At the first request that is anything else, the connection, with the
// bytes read so far, goes to net/http through Accept: its own routes, its
// errors for malformed requests, and every later request of that
// connection are net/http's.
type fastServer struct {
	h      *Handler
	ln     net.Listener
	log    *slog.Logger
	idle   time.Duration // keep-alive connection waiting for a request
	header time.Duration // from a request's first bytes to its full head

	handoff chan net.Conn // to net/http's Accept
	closed  chan struct{}
	close   sync.Once

	mu    sync.Mutex
	conns map[net.Conn]struct{} // served here, for Shutdown
	wg    sync.WaitGroup
}

// readBufSize bounds a request head on the fast path; a longer one goes
// to net/http, whose MaxHeaderBytes is larger.
const readBufSize = 4096

func newFastServer(ln net.Listener, h *Handler, idle, header time.Duration, log *slog.Logger) *fastServer {
	s := &fastServer{h: h, ln: ln, log: log, idle: idle, header: header,
		handoff: make(chan net.Conn), closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *fastServer) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.closed:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or the like: wait, as net/http does.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Debug("steering accept", "err", err, "retry", backoff)
			select {
			case <-time.After(backoff):
			case <-s.closed:
				return
			}
			continue
		}
		backoff = 0
		s.mu.Lock()
		select {
		case <-s.closed:
			s.mu.Unlock()
			c.Close()
			return
		default:
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// Accept gives net/http the connections the fast path handed over.
func (s *fastServer) Accept() (net.Conn, error) {
	select {
	case c := <-s.handoff:
		return c, nil
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

// Close is called by http.Server.Shutdown (and Close): it stops accepting
// and wakes every connection waiting for a request, which then closes;
// a request being answered is answered first.
func (s *fastServer) Close() error {
	var err error
	s.close.Do(func() {
		s.mu.Lock()
		close(s.closed)
		for c := range s.conns {
			c.SetReadDeadline(aLongTimeAgo)
		}
		s.mu.Unlock()
		err = s.ln.Close()
	})
	return err
}

var aLongTimeAgo = time.Unix(1, 0)

func (s *fastServer) Addr() net.Addr { return s.ln.Addr() }

// wait waits, after Close, until every connection served here is closed.
func (s *fastServer) wait(ctx context.Context) error {
	all := make(chan struct{})
	go func() { s.wg.Wait(); close(all) }()
	select {
	case <-all:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *fastServer) forget(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// serveConn answers requests on c until the client closes, a timeout, a
// Connection: close, Shutdown, or a request it hands to net/http.
func (s *fastServer) serveConn(c net.Conn) {
	kept := false // handed to net/http, which closes it
	defer func() {
		if r := recover(); r != nil {
			// A bug costs this connection, never the server.
			s.log.Error("steering: panic serving a connection", "panic", r)
		}
		if !kept {
			c.Close()
		}
		s.forget(c)
	}()
	var peer netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		peer = ta.AddrPort().Addr().Unmap()
	}
	buf := make([]byte, readBufSize)
	out := make([]byte, 0, 1024) // replies not yet written
	body := make([]byte, 0, 512) // one reply's body
	fr := new(fastRequest)       // reused: it points into itself, so it lives on the heap
	var r, w int                 // buf[r:w] is read and not yet parsed
	var deadline time.Time       // the read deadline set on c
	var headStart time.Time      // when the first bytes of a partial head came
	flush := func() bool {
		if len(out) == 0 {
			return true
		}
		_, err := c.Write(out)
		out = out[:0]
		return err == nil
	}
	for {
		end := bytes.Index(buf[r:w], crlfcrlf)
		if end < 0 {
			// No complete head: send what is answered, then read more.
			if !flush() {
				return
			}
			if r == w {
				r, w = 0, 0
			} else if r > 0 {
				w = copy(buf, buf[r:w])
				r = 0
			}
			if w == len(buf) {
				kept = s.handOff(c, buf[:w])
				return
			}
			now := time.Now()
			want := now.Add(s.idle)
			if w > 0 { // a head has begun: it has s.header to complete
				if headStart.IsZero() {
					headStart = now
				}
				want = headStart.Add(s.header)
			}
			// Moving the deadline costs a timer update, so an idle
			// deadline is moved once it has a second less slack than
			// s.idle, not before every read.
			if !want.Equal(deadline) && (want.Before(deadline) || deadline.Sub(now) < s.idle-time.Second) {
				c.SetReadDeadline(want)
				deadline = want
			}
			select {
			case <-s.closed:
				return
			default:
			}
			n, err := c.Read(buf[w:])
			w += n
			if err != nil && n == 0 {
				return
			}
			continue
		}
		headStart = time.Time{}
		head := buf[r : r+end+4]
		if !parseHead(head, fr) {
			if !flush() {
				return
			}
			kept = s.handOff(c, buf[r:w])
			return
		}
		r += end + 4
		fr.req.peer = peer
		out, body = s.reply(out, body, fr)
		if fr.close {
			flush()
			return
		}
		select {
		case <-s.closed:
			flush()
			return
		default:
		}
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// handOff passes c to net/http with the bytes read and not answered, and
// reports whether net/http took it.
func (s *fastServer) handOff(c net.Conn, unread []byte) bool {
	c.SetReadDeadline(time.Time{})
	rc := &replayConn{Conn: c, pending: bytes.Clone(unread)}
	select {
	case s.handoff <- rc:
		return true
	case <-s.closed:
		return false
	}
}

// replayConn reads the bytes the fast path had read before the
// connection itself.
type replayConn struct {
	net.Conn
	pending []byte
}

// CloseWrite lets net/http half-close a connection it refuses, as it does
// a *net.TCPConn, so that the client reads the error before the close.
func (c *replayConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// reply appends the response to fr to out: the handler's answer with the
// headers ServeHTTP would set, and Date and Content-Length as net/http
// writes them.
func (s *fastServer) reply(out, body []byte, fr *fastRequest) ([]byte, []byte) {
	status, kind, body := s.h.answer(&fr.req, body[:0])
	out = append(out, statusLine(status)...)
	out = append(out, "Access-Control-Allow-Origin: *\r\n"...)
	switch kind {
	case replyPreflight:
		out = append(out, "Access-Control-Allow-Methods: GET, HEAD, OPTIONS\r\nAccess-Control-Max-Age: 86400\r\n"...)
	case replyNotAllowed:
		out = append(out, "Allow: GET, HEAD, OPTIONS\r\n"...)
	}
	if kind != replyPreflight {
		out = append(out, "Cache-Control: no-store\r\nContent-Type: application/json\r\n"...)
	}
	if fr.close {
		out = append(out, "Connection: close\r\n"...)
	}
	out = append(out, "Date: "...)
	out = append(out, httpDate()...)
	out = append(out, "\r\n"...)
	if status != 204 {
		out = append(out, "Content-Length: "...)
		out = appendInt(out, len(body))
		out = append(out, "\r\n"...)
	}
	out = append(out, "\r\n"...)
	if fr.req.method != "HEAD" {
		out = append(out, body...)
	}
	return out, body
}

// statusLine is the status line of the statuses the handler answers.
func statusLine(code int) string {
	switch code {
	case 200:
		return "HTTP/1.1 200 OK\r\n"
	case 204:
		return "HTTP/1.1 204 No Content\r\n"
	case 400:
		return "HTTP/1.1 400 Bad Request\r\n"
	case 404:
		return "HTTP/1.1 404 Not Found\r\n"
	case 405:
		return "HTTP/1.1 405 Method Not Allowed\r\n"
	}
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n"
}

func appendInt(b []byte, n int) []byte {
	var d [20]byte
	i := len(d)
	for {
		i--
		d[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, d[i:]...)
}

// date is the Date header of the current second, formatted once a second.
type date struct {
	sec int64
	val []byte
}

var dateNow atomic.Pointer[date]

func httpDate() []byte {
	now := time.Now()
	sec := now.Unix()
	if d := dateNow.Load(); d != nil && d.sec == sec {
		return d.val
	}
	d := &date{sec: sec, val: now.UTC().AppendFormat(nil, "Mon, 02 Jan 2006 15:04:05 GMT")}
	dateNow.Store(d)
	return d.val
}
