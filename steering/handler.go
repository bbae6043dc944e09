// Package steering serves HLS and DASH content steering manifests
// (GET /steer/{name}) from the state the DNS path answers from: the same
// snapshot, live weights, GeoIP database and rendezvous pick, so that a
// player without a session ID is given first the CDN a DNS answer gives
// its /24. Players re-ask every TTL, which moves sessions already playing
// when a CDN degrades, not only new ones.
package steering

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cdnsteer/cdnsteer/geo"
	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// State is what an answer is read from: the state the DNS handler
// answers from, so that a subnet gets the same region and first pathway
// from both.
type State struct {
	Snap *zones.Snapshot
	// Live holds the health engine's weights; nil means baseline weights.
	Live *health.Table
	// DB, ASN and Subnets find a client's region as DNS does
	// (geo.LookupClient): the GeoIP database, the ASN regions and the
	// lookup by /24 (/56) built from them; any may be nil.
	DB      *geo.DB
	ASN     *geo.ASNRegions
	Subnets *geo.SubnetMap
}

// Source returns the state in force, with one atomic load.
type Source func() State

// region is the index of the client's region: the same lookup and the
// same default as DNS.
func (st *State) region(client netip.Addr) int {
	region := geo.LookupClient(st.Subnets, st.Snap.GeoTable, st.DB, st.ASN, client).Region
	if region < 0 {
		region = st.Snap.RegionIndex(zones.DefaultRegion)
	}
	return region
}

// Limits on what a request may carry.
const (
	// MaxQuery bounds the query string: the players' parameters and a
	// session ID fit in a few hundred bytes.
	MaxQuery = 1024
	// MaxSID bounds a session ID.
	MaxSID = 128
	// maxCDNs is the most CDNs a manifest is built for on the stack.
	maxCDNs = 16
)

// LoadThreshold is the number of requests in flight at which the TTL
// starts to grow: with n in flight the TTL is multiplied by
// 1 + n/LoadThreshold (at most MaxTTLFactor), so that a flood of players
// asks less often instead of being refused: hls.js stops steering for good
// on a 429.
var LoadThreshold int64 = 256

// MaxTTLFactor caps how far load stretches the TTL.
const MaxTTLFactor = 10

// Handler answers steering requests. It takes no locks: it reads the
// state with one atomic load and counts with atomic adds.
type Handler struct {
	src      Source
	metrics  *Metrics
	inFlight atomic.Int64
	bufs     sync.Pool
	// qoe receives the players' CMCD reports (CollectQoE); nil: none.
	qoe *QoE
}

// NewHandler returns a handler reading its state from src and counting
// into m.
func NewHandler(src Source, m *Metrics) *Handler {
	h := &Handler{src: src, metrics: m}
	h.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return h
}

// Reasons a request is refused, the bad_requests metric's labels.
const (
	reasonUnknownName = "unknown_name"
	reasonBadPath     = "bad_path"
	reasonMethod      = "method"
	reasonOversized   = "oversized_query"
	reasonThroughput  = "bad_throughput"
	reasonPathway     = "unknown_pathway"
	reasonSID         = "bad_sid"
	reasonQuery       = "bad_query"
	reasonNoSteering  = "steering_off"
	reasonXFFIgnored  = "xff_untrusted" // counted, not refused
	reasonXFFInvalid  = "xff_invalid"   // counted, not refused
)

// request is what the handler reads from a steering request, whichever
// server parsed it (net/http, or the HTTP/1.1 fast path in http1.go).
type request struct {
	method   string
	path     string // unescaped, as URL.Path
	rawQuery string
	peer     netip.Addr // the TCP peer; invalid when unknown
	xff      []string   // X-Forwarded-For field values, in order
}

// replyKind says which headers a reply carries besides
// Access-Control-Allow-Origin.
type replyKind uint8

const (
	replyJSON       replyKind = iota // Content-Type JSON, Cache-Control no-store
	replyPreflight                   // 204: Allow-Methods and Max-Age, no body
	replyNotAllowed                  // 405 JSON with Allow
)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := request{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, xff: r.Header["X-Forwarded-For"]}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		q.peer = ap.Addr().Unmap()
	}
	bp := h.bufs.Get().(*[]byte)
	status, kind, b := h.answer(&q, (*bp)[:0])
	hdr := w.Header()
	hdr["Access-Control-Allow-Origin"] = star
	switch kind {
	case replyPreflight:
		hdr["Access-Control-Allow-Methods"] = allowMethods
		hdr["Access-Control-Max-Age"] = maxAge
	case replyNotAllowed:
		hdr["Allow"] = allowMethods
	}
	if kind != replyPreflight {
		hdr["Content-Type"] = jsonType
		hdr["Cache-Control"] = noStore
	}
	if r.Method == http.MethodHead && len(b) > 0 {
		// the length of the GET's body, as the fast path says
		hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead && len(b) > 0 {
		w.Write(b)
	}
	*bp = b
	h.bufs.Put(bp)
}

// answer decides the reply to q: its status, which headers it carries,
// and its body, appended to b.
func (h *Handler) answer(q *request, b []byte) (int, replyKind, []byte) {
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	switch q.method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		return http.StatusNoContent, replyPreflight, b
	default:
		return h.fail(b, http.StatusMethodNotAllowed, reasonMethod, "use GET", replyNotAllowed)
	}
	st := h.src()
	snap := st.Snap
	if snap == nil || snap.Steering == nil {
		return h.fail(b, http.StatusNotFound, reasonNoSteering, "content steering is not configured", replyJSON)
	}
	name, ok := strings.CutPrefix(q.path, "/steer/")
	if !ok || name == "" || strings.IndexByte(name, '/') >= 0 || len(name) > 254 {
		return h.fail(b, http.StatusNotFound, reasonBadPath, "the steering endpoint is /steer/{name}", replyJSON)
	}
	steered, ok := lookupName(snap, name)
	if !ok {
		return h.fail(b, http.StatusNotFound, reasonUnknownName, "no steered name "+strconv.Quote(name), replyJSON)
	}
	if len(q.rawQuery) > MaxQuery {
		return h.fail(b, http.StatusBadRequest, reasonOversized, "the query string is longer than "+strconv.Itoa(MaxQuery)+" bytes", replyJSON)
	}
	var p params
	if reason, msg := parseQuery(q.rawQuery, &p); reason != "" {
		return h.fail(b, http.StatusBadRequest, reason, msg, replyJSON)
	}
	conf := snap.Steering
	current := -1
	if p.pathway != "" {
		if current = conf.PathwayIndex(p.pathway); current < 0 {
			return h.fail(b, http.StatusBadRequest, reasonPathway, "pathway "+strconv.Quote(p.pathway)+" is not a CDN of the policy", replyJSON)
		}
	}

	client := h.client(q, conf)
	region := st.region(client)
	if p.cmcd != "" && h.qoe != nil {
		h.qoe.Query(snap, p.cmcd, client, region, current)
	}
	pol := steered.Policy
	ws := st.Live.Get(pol.Index, region)
	if ws == nil || len(ws.W) != len(pol.Targets) {
		ws = pol.Baseline[region]
	}
	var key uint64
	if p.sid != "" {
		key = health.SessionKey(p.sid)
	} else {
		key = health.SubnetKey(client)
	}
	var inline [maxCDNs]int
	order := inline[:0]
	if len(ws.W) <= maxCDNs {
		order = inline[:len(ws.W)]
	} else {
		order = make([]int, len(ws.W))
	}
	ws.Rank(key, order)
	if current >= 0 && current != order[0] && ws.Holds(current) {
		// No needless switch: the player stays where it is while its CDN
		// is healthy, not drained and not capped, even a few score points
		// under full marks (health.Weights.Holds).
		for i := 1; i < len(order); i++ {
			if order[i] == current {
				copy(order[1:i+1], order[:i])
				order[0] = current
				break
			}
		}
	}

	ttl := conf.TTL
	if n > LoadThreshold {
		f := 1 + n/LoadThreshold
		if f > MaxTTLFactor {
			f = MaxTTLFactor
		}
		ttl *= uint32(f)
		h.metrics.ttlStretched.Inc()
	}

	h.metrics.count(snap, region, order[0], current, p)
	return http.StatusOK, replyJSON, appendManifest(b, ttl, q.path, p.sid, conf.Pathways, order)
}

// Header values, shared so that setting them allocates nothing.
var (
	star         = []string{"*"}
	allowMethods = []string{"GET, HEAD, OPTIONS"}
	maxAge       = []string{"86400"}
	jsonType     = []string{"application/json"}
	noStore      = []string{"no-store"}
)

// lookupName finds a steered name given as in the URL: any case, with or
// without the final dot.
func lookupName(snap *zones.Snapshot, name string) (zones.Steered, bool) {
	var buf [256]byte
	b := buf[:0]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	if b[len(b)-1] != '.' {
		b = append(b, '.')
	}
	return snap.SteeredName(b)
}
