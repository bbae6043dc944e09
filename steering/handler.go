// Package steering serves HLS and DASH content steering manifests
// (GET /steer/{name}) from the state the DNS path answers from: the same
// snapshot, live weights, GeoIP database and rendezvous pick, so that a
// player without a session ID is given first the CDN a DNS answer gives
// its /24. Players re-ask every TTL, which moves sessions already playing
// when a CDN degrades, not only new ones.
package steering

import (
	"math"
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

// Source returns the state in force: the same one the DNS handler reads,
// with one atomic load.
type Source func() (snap *zones.Snapshot, live *health.Table, db *geo.DB)

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
}

// NewHandler returns a handler reading its state from src and counting
// into m.
func NewHandler(src Source, m *Metrics) *Handler {
	h := &Handler{src: src, metrics: m}
	h.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	return h
}

// params are a request's parsed query parameters.
type params struct {
	pathway    string
	throughput float64 // bits per second; <0: not given
	sid        string
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

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.inFlight.Add(1)
	defer h.inFlight.Add(-1)
	hdr := w.Header()
	hdr["Access-Control-Allow-Origin"] = star
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		hdr["Access-Control-Allow-Methods"] = allowMethods
		hdr["Access-Control-Max-Age"] = maxAge
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		hdr["Allow"] = allowMethods
		h.fail(w, http.StatusMethodNotAllowed, reasonMethod, "use GET")
		return
	}
	snap, live, db := h.src()
	if snap == nil || snap.Steering == nil {
		h.fail(w, http.StatusNotFound, reasonNoSteering, "content steering is not configured")
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, "/steer/")
	if !ok || name == "" || strings.IndexByte(name, '/') >= 0 || len(name) > 254 {
		h.fail(w, http.StatusNotFound, reasonBadPath, "the steering endpoint is /steer/{name}")
		return
	}
	steered, ok := lookupName(snap, name)
	if !ok {
		h.fail(w, http.StatusNotFound, reasonUnknownName, "no steered name "+strconv.Quote(name))
		return
	}
	if len(r.URL.RawQuery) > MaxQuery {
		h.fail(w, http.StatusBadRequest, reasonOversized, "the query string is longer than "+strconv.Itoa(MaxQuery)+" bytes")
		return
	}
	var p params
	if reason, msg := parseQuery(r.URL.RawQuery, &p); reason != "" {
		h.fail(w, http.StatusBadRequest, reason, msg)
		return
	}
	st := snap.Steering
	current := -1
	if p.pathway != "" {
		if current = st.PathwayIndex(p.pathway); current < 0 {
			h.fail(w, http.StatusBadRequest, reasonPathway, "pathway "+strconv.Quote(p.pathway)+" is not a CDN of the policy")
			return
		}
	}

	client := h.client(r, st)
	region := snap.GeoTable.Lookup(db, client).Region
	if region < 0 {
		region = snap.RegionIndex(zones.DefaultRegion)
	}
	pol := steered.Policy
	ws := live.Get(pol.Index, region)
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
	if current >= 0 && current < len(ws.W) && current != order[0] && keeps(ws, pol.Baseline[region], current) {
		// No needless switch: the player stays where it is while its CDN
		// is as good as the policy meant it to be.
		for i := 1; i < len(order); i++ {
			if order[i] == current {
				copy(order[1:i+1], order[:i])
				order[0] = current
				break
			}
		}
	}

	ttl := st.TTL
	if n > LoadThreshold {
		f := 1 + n/LoadThreshold
		if f > MaxTTLFactor {
			f = MaxTTLFactor
		}
		ttl *= uint32(f)
		h.metrics.ttlStretched.Inc()
	}

	h.metrics.count(snap, region, order[0], current, p)

	bp := h.bufs.Get().(*[]byte)
	b := appendManifest((*bp)[:0], ttl, r.URL.Path, p.sid, st.Pathways, order)
	hdr["Content-Type"] = jsonType
	hdr["Cache-Control"] = noStore
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b)
	}
	*bp = b
	h.bufs.Put(bp)
}

// Header values, shared so that setting them allocates nothing.
var (
	star         = []string{"*"}
	allowMethods = []string{"GET, HEAD, OPTIONS"}
	maxAge       = []string{"86400"}
	jsonType     = []string{"application/json"}
	noStore      = []string{"no-store"}
)

// keeps says whether a player on CDN c stays there: c carries traffic
// and the engine has not cut its weight below the policy's for the region
// (a degraded, drained, recovering or over-capacity CDN has).
func keeps(live, base *health.Weights, c int) bool {
	if live.W[c] <= 0 {
		return false
	}
	if base == nil || c >= len(base.W) || len(live.W) != len(base.W) {
		return true
	}
	// The engine scales live weights to the baseline's total, so weights
	// compare directly; the margin absorbs rounding.
	return live.W[c] >= base.W[c]*(1-1e-9)
}

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

// client is the address the answer is for: the peer, or the last address
// of X-Forwarded-For that no trusted proxy added when the peer is a
// trusted proxy. X-Forwarded-For from anyone else is ignored.
func (h *Handler) client(r *http.Request, st *zones.Steering) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	xff := r.Header["X-Forwarded-For"]
	if len(xff) == 0 {
		return peer
	}
	if !trusted(st.TrustedProxies, peer) {
		h.metrics.bad(reasonXFFIgnored)
		return peer
	}
	// Walk from the right: each hop appends the address it saw, and only
	// the hops of trusted proxies are believed.
	addr := peer
	for i := len(xff) - 1; i >= 0; i-- {
		v := xff[i]
		for v != "" {
			j := strings.LastIndexByte(v, ',')
			part := strings.TrimSpace(v[j+1:])
			if j < 0 {
				v = ""
			} else {
				v = v[:j]
			}
			a, err := netip.ParseAddr(part)
			if err != nil {
				h.metrics.bad(reasonXFFInvalid)
				return addr
			}
			addr = a.Unmap()
			if !trusted(st.TrustedProxies, addr) {
				return addr
			}
		}
	}
	return addr
}

func trusted(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseQuery reads the players' parameters from a raw query string
// without building url.Values. Unknown parameters are ignored: players
// and RELOAD-URIs may carry their own.
func parseQuery(q string, p *params) (reason, msg string) {
	p.throughput = -1
	for q != "" {
		var kv string
		if i := strings.IndexByte(q, '&'); i >= 0 {
			kv, q = q[:i], q[i+1:]
		} else {
			kv, q = q, ""
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if strings.IndexByte(v, '%') >= 0 || strings.IndexByte(v, '+') >= 0 {
			u, err := unescape(v)
			if err != nil {
				return reasonQuery, "the query string is not valid URL encoding"
			}
			v = u
		}
		switch k {
		case "_HLS_pathway", "_DASH_pathway":
			p.pathway = v
		case "_HLS_throughput", "_DASH_throughput":
			t, err := strconv.ParseFloat(v, 64)
			if err != nil || t < 0 || math.IsInf(t, 0) || math.IsNaN(t) {
				return reasonThroughput, k + " is not a non-negative number"
			}
			if k == "_DASH_throughput" {
				// DASH-IF CTS gives kilobits per second, HLS bits.
				t *= 1000
			}
			p.throughput = t
		case "sid":
			if v == "" || len(v) > MaxSID {
				return reasonSID, "sid must have 1 to " + strconv.Itoa(MaxSID) + " bytes"
			}
			p.sid = v
		}
	}
	return "", ""
}

// fail answers a refused request with a JSON error and counts it.
func (h *Handler) fail(w http.ResponseWriter, code int, reason, msg string) {
	h.metrics.bad(reason)
	hdr := w.Header()
	hdr["Content-Type"] = jsonType
	hdr["Cache-Control"] = noStore
	w.WriteHeader(code)
	b := append([]byte(`{"error":`), jsonString(msg)...)
	b = append(b, `,"reason":"`...)
	b = append(b, reason...)
	b = append(b, "\"}\n"...)
	w.Write(b)
}
