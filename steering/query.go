package steering

import (
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cdnsteer/cdnsteer/zones"
)

// params are a request's parsed query parameters.
type params struct {
	pathway    string
	throughput float64 // bits per second; <0: not given
	sid        string
	cmcd       string // the CMCD= value, still URL-encoded; "" if none
}

// client is the address the answer is for: the peer, or the last address
// of X-Forwarded-For that no trusted proxy added when the peer is a
// trusted proxy. X-Forwarded-For from anyone else is ignored.
func (h *Handler) client(q *request, st *zones.Steering) netip.Addr {
	peer := q.peer
	if !peer.IsValid() || len(q.xff) == 0 {
		return peer
	}
	if !trusted(st.TrustedProxies, peer) {
		h.metrics.bad(reasonXFFIgnored)
		return peer
	}
	// Walk from the right: each hop appends the address it saw, and only
	// the hops of trusted proxies are believed.
	addr := peer
	for i := len(q.xff) - 1; i >= 0; i-- {
		v := q.xff[i]
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
		switch k {
		case "CMCD":
			// Decoded by the QoE receiver into its own buffer.
			p.cmcd = v
			continue
		case "_HLS_pathway", "_DASH_pathway", "_HLS_throughput", "_DASH_throughput", "sid":
		default:
			continue
		}
		if strings.IndexByte(v, '%') >= 0 || strings.IndexByte(v, '+') >= 0 {
			u, err := unescape(v)
			if err != nil {
				return reasonQuery, "the query string is not valid URL encoding"
			}
			v = u
		}
		switch k {
		case "_HLS_pathway", "_DASH_pathway":
			p.pathway = strings.Trim(v[strings.LastIndexByte(v, ',')+1:], `"`) // dash.js 5 sends a quoted list, the current last: "a,b"
		case "_HLS_throughput", "_DASH_throughput":
			if k == "_DASH_throughput" {
				// dash.js 5 sends one throughput per pathway of the
				// _DASH_pathway list, the current last, and none (an empty
				// entry) for a pathway it has no sample of yet.
				if v = strings.Trim(v[strings.LastIndexByte(v, ',')+1:], `"`); v == "" {
					continue
				}
			}
			// Both in bit/s: hls.js sends its bandwidth estimate, dash.js
			// 5 its kbit/s mean times 1000 (DASH-IF CTS 001 does not say;
			// the players test compares both with what Chromium timed).
			t, err := strconv.ParseFloat(v, 64)
			if err != nil || t < 0 || math.IsInf(t, 0) || math.IsNaN(t) {
				return reasonThroughput, k + " is not a non-negative number"
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

// fail counts a refused request and appends its JSON error to b.
func (h *Handler) fail(b []byte, code int, reason, msg string, kind replyKind) (int, replyKind, []byte) {
	h.metrics.bad(reason)
	b = append(b, `{"error":`...)
	b = appendJSONString(b, msg)
	b = append(b, `,"reason":"`...)
	b = append(b, reason...)
	b = append(b, "\"}\n"...)
	return code, kind, b
}
