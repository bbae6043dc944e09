package steering

import (
	"bytes"
	"context"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/qoe"
	"github.com/cdnsteer/cdnsteer/zones"
)

// MaxCMCDBody bounds a batch of CMCD reports: a player sends a few lines
// at a time; more is refused with 413, never 429 (a CMCD reporter
// retries a 429 and keeps sending).
const MaxCMCDBody = 64 << 10

// QoE receives the players' CMCD reports on the steering listener:
// POST /qoe/cmcd (CMCD v2 event mode, one dictionary per line) and the
// CMCD= query of steering requests. Regions and client addresses are the
// steering handler's (X-Forwarded-For from trusted proxies, the region
// DNS gives the subnet); the address is hashed into a session key when a
// report has no sid, and kept nowhere.
type QoE struct {
	h    *Handler
	c    *qoe.Collector
	snap atomic.Pointer[zones.Snapshot] // the one the collector was set for
	bufs sync.Pool                      // *qoeBuf
}

type qoeBuf struct {
	body []byte
	p    qoe.Parser
	r    qoe.Report
}

// CollectQoE has the handler's listener take CMCD reports into c: the
// CMCD= query of steering requests, and POST /qoe/cmcd, which Listen
// routes to the QoE it returns. Call it before Listen.
func (h *Handler) CollectQoE(c *qoe.Collector) *QoE {
	q := &QoE{h: h, c: c}
	q.bufs.New = func() any { return &qoeBuf{body: make([]byte, 0, 4096)} }
	h.qoe = q
	return q
}

// configure hands the collector the snapshot's topology when it changes.
func (q *QoE) configure(snap *zones.Snapshot) {
	if q.snap.Load() == snap {
		return
	}
	topo := qoe.Topology{Hosts: snap.QoE.Hosts, Pathways: snap.Steering.Pathways}
	for _, c := range snap.CDNs {
		topo.CDNs = append(topo.CDNs, c.Name)
	}
	for _, r := range snap.Regions {
		topo.Regions = append(topo.Regions, r.Name)
	}
	q.c.Configure(qoe.Config{Sample: snap.QoE.Sample, Window: snap.QoE.Window}, topo)
	q.snap.Store(snap)
}

// Run publishes the windows to push every interval until ctx ends.
func (q *QoE) Run(ctx context.Context, every time.Duration, push func(...health.Signal)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if snap := q.h.src().Snap; snap != nil && snap.QoE != nil {
				q.configure(snap)
			}
			if sigs := q.c.Flush(now); len(sigs) > 0 {
				push(sigs...)
			}
		}
	}
}

var (
	qoeMethods = []string{"POST, OPTIONS"}
	qoeHeaders = []string{"Content-Type"}
)

// ServeHTTP answers POST /qoe/cmcd: 204 once the batch is read (a
// malformed line is counted and skipped), 410 when every session in it
// is outside [qoe] sample, 413 past MaxCMCDBody, 415 for another type.
func (q *QoE) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr["Access-Control-Allow-Origin"] = star
	switch r.Method {
	case http.MethodPost:
	case http.MethodOptions:
		// application/cmcd is not a type a browser posts without asking.
		hdr["Access-Control-Allow-Methods"] = qoeMethods
		hdr["Access-Control-Allow-Headers"] = qoeHeaders
		hdr["Access-Control-Max-Age"] = maxAge
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		hdr["Allow"] = qoeMethods
		qoeFail(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	st := q.h.src()
	snap := st.Snap
	if snap == nil || snap.Steering == nil || snap.QoE == nil {
		qoeFail(w, http.StatusNotFound, "CMCD reports are not collected here")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/cmcd" && mt != "text/plain" {
		qoeFail(w, http.StatusUnsupportedMediaType, "Content-Type: application/cmcd, one CMCD dictionary per line")
		return
	}
	if r.ContentLength > MaxCMCDBody {
		q.c.Oversized()
		qoeFail(w, http.StatusRequestEntityTooLarge, "a batch is at most 64 KiB")
		return
	}
	q.configure(snap)
	b := q.bufs.Get().(*qoeBuf)
	defer q.bufs.Put(b)
	body, err := readAtMost(r.Body, b.body[:0], MaxCMCDBody)
	b.body = body[:0]
	if err == errTooLarge {
		q.c.Oversized()
		qoeFail(w, http.StatusRequestEntityTooLarge, "a batch is at most 64 KiB")
		return
	}
	if err != nil {
		qoeFail(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	req := request{method: r.Method, path: r.URL.Path, xff: r.Header["X-Forwarded-For"]}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		req.peer = ap.Addr().Unmap()
	}
	client := q.h.client(&req, snap.Steering)
	region := st.region(client)
	// The pathway the player is on, if the reporter adds it to the URL
	// (the demo's page does): the CDN of the lines that name none.
	pathway := -1
	var p params
	if len(r.URL.RawQuery) <= MaxQuery {
		if reason, _ := parseQuery(r.URL.RawQuery, &p); reason == "" && p.pathway != "" {
			pathway = snap.Steering.PathwayIndex(p.pathway)
		}
	}
	addr := client.As16()
	now := time.Now()
	in, out := 0, 0
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := b.p.Parse(line, &b.r); err != nil {
			q.c.Malformed()
			continue
		}
		switch q.c.Add(&b.r, qoe.Session(b.r.SID, addr[:]), region, pathway, now) {
		case qoe.SampledOut:
			out++
		default:
			in++
		}
	}
	if out > 0 && in == 0 {
		// CMCD reporters stop sending for the session on a 410.
		qoeFail(w, http.StatusGone, "this session is outside the sample")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Query counts the CMCD= parameter of a steering request, its value v
// still URL-encoded, for a client in region whose current pathway is the
// CDN index pathway (-1: none). Nothing about it changes the manifest: a
// malformed value is counted, a session outside the sample is not.
func (q *QoE) Query(snap *zones.Snapshot, v string, client netip.Addr, region, pathway int) {
	if snap.QoE == nil {
		return
	}
	q.configure(snap)
	b := q.bufs.Get().(*qoeBuf)
	defer q.bufs.Put(b)
	line, ok := appendUnescaped(b.body[:0], v)
	b.body = line[:0]
	if !ok || b.p.Parse(line, &b.r) != nil {
		q.c.Malformed()
		return
	}
	addr := client.As16()
	q.c.Add(&b.r, qoe.Session(b.r.SID, addr[:]), region, pathway, time.Now())
}

// appendUnescaped appends the URL-decoded s to dst ('+' is a space).
func appendUnescaped(dst []byte, s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return dst, false
			}
			dst = append(dst, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
			i += 2
		case '+':
			dst = append(dst, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

type tooLarge struct{}

func (tooLarge) Error() string { return "body too large" }

var errTooLarge error = tooLarge{}

// readAtMost reads r into dst, failing with errTooLarge past limit.
func readAtMost(r io.Reader, dst []byte, limit int) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if len(dst) > limit {
			return dst, errTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

func qoeFail(w http.ResponseWriter, code int, msg string) {
	hdr := w.Header()
	hdr["Content-Type"] = jsonType
	hdr["Cache-Control"] = noStore
	w.WriteHeader(code)
	// The messages are this file's own ASCII, which Go quotes as JSON.
	w.Write([]byte(`{"error":` + strconv.Quote(msg) + "}\n"))
}
