package probe

import (
	"net/http"
	"strconv"
	"strings"
)

// CacheStatus says whether the CDN answered a probe from its cache, as far
// as its response headers tell.
type CacheStatus uint8

// The zero CacheStatus is CacheUnknown, so a probe without a response
// claims nothing about the cache.
const (
	CacheUnknown CacheStatus = iota
	CacheHit
	CacheMiss
)

// String returns "unknown", "hit" or "miss".
func (c CacheStatus) String() string {
	switch c {
	case CacheHit:
		return "hit"
	case CacheMiss:
		return "miss"
	default:
		return "unknown"
	}
}

// cacheHeaders are where CDNs and caches say hit or miss: Squid, Varnish,
// Fastly, CloudFront and Akamai (X-Cache, and X-Cache-Remote for Akamai's
// parent tier), nginx (X-Cache-Status), Cloudflare (CF-Cache-Status) and
// Akamai's standard header (Akamai-Cache-Status).
var cacheHeaders = []string{"X-Cache", "X-Cache-Remote", "X-Cache-Status", "CF-Cache-Status", "Akamai-Cache-Status"}

// cacheStatus reads a response's cache status. A hit at any tier counts:
// the question for steering is whether the CDN had the object, not which
// of its layers did. Age > 0 means a cache kept the object for a while,
// which is taken as a hit only when no header says otherwise.
func cacheStatus(h http.Header) CacheStatus {
	var hit, miss bool
	for _, name := range cacheHeaders {
		for _, v := range h.Values(name) {
			// Tiered CDNs list one entry per layer ("MISS, HIT").
			for part := range strings.SplitSeq(v, ",") {
				switch cacheWord(part) {
				case CacheHit:
					hit = true
				case CacheMiss:
					miss = true
				}
			}
		}
	}
	switch {
	case hit:
		return CacheHit
	case miss:
		return CacheMiss
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
		return CacheHit
	}
	return CacheUnknown
}

// cacheWord reads one entry. Only its first word counts: the rest is a
// node name ("HIT from cache-fra1"), which could contain "hit" or "miss".
func cacheWord(entry string) CacheStatus {
	f := strings.Fields(entry)
	if len(f) == 0 {
		return CacheUnknown
	}
	w := strings.ToUpper(f[0])
	switch {
	// HIT, TCP_HIT, TCP_MEM_HIT, RefreshHit; nginx and Cloudflare also
	// serve STALE, UPDATING and REVALIDATED from cache.
	case strings.Contains(w, "HIT"), w == "STALE", w == "UPDATING", w == "REVALIDATED":
		return CacheHit
	// The object came from the origin: MISS, TCP_MISS, Cloudflare's
	// DYNAMIC (not cacheable), EXPIRED, BYPASS, Fastly's PASS.
	case strings.Contains(w, "MISS"), w == "DYNAMIC", w == "EXPIRED", w == "BYPASS", w == "PASS":
		return CacheMiss
	}
	return CacheUnknown
}
