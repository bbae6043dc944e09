package probe

import (
	"net/http"
	"testing"
)

func TestCacheStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		want CacheStatus
	}{
		{"none", http.Header{}, CacheUnknown},
		{"squid hit", http.Header{"X-Cache": {"HIT from x"}}, CacheHit},
		{"squid miss", http.Header{"X-Cache": {"TCP_MISS"}}, CacheMiss},
		{"akamai mem hit", http.Header{"X-Cache": {"TCP_MEM_HIT from a23-1-2-3.deploy.akamaitechnologies.com"}}, CacheHit},
		{"node name says hit", http.Header{"X-Cache": {"MISS from whitehit"}}, CacheMiss},
		{"cloudfront", http.Header{"X-Cache": {"Hit from cloudfront"}}, CacheHit},
		{"cloudfront refresh", http.Header{"X-Cache": {"RefreshHit from cloudfront"}}, CacheHit},
		{"cloudfront miss", http.Header{"X-Cache": {"Miss from cloudfront"}}, CacheMiss},
		{"cloudfront error", http.Header{"X-Cache": {"Error from cloudfront"}}, CacheUnknown},
		{"fastly shield hit", http.Header{"X-Cache": {"HIT, MISS"}}, CacheHit},
		{"fastly pass", http.Header{"X-Cache": {"PASS"}}, CacheMiss},
		{"akamai parent hit", http.Header{"X-Cache": {"TCP_MISS from a"}, "X-Cache-Remote": {"TCP_HIT from b"}}, CacheHit},
		{"akamai-cache-status", http.Header{"Akamai-Cache-Status": {"Miss from child, Miss from parent"}}, CacheMiss},
		{"nginx stale", http.Header{"X-Cache-Status": {"STALE"}}, CacheHit},
		{"nginx expired", http.Header{"X-Cache-Status": {"EXPIRED"}}, CacheMiss},
		{"cloudflare hit", http.Header{"Cf-Cache-Status": {"HIT"}}, CacheHit},
		{"cloudflare dynamic", http.Header{"Cf-Cache-Status": {"DYNAMIC"}}, CacheMiss},
		{"cloudflare none", http.Header{"Cf-Cache-Status": {"NONE"}}, CacheUnknown},
		{"age", http.Header{"Age": {"30"}}, CacheHit},
		{"age zero", http.Header{"Age": {"0"}}, CacheUnknown},
		{"age garbage", http.Header{"Age": {"soon"}}, CacheUnknown},
		{"miss beats age", http.Header{"X-Cache": {"MISS"}, "Age": {"30"}}, CacheMiss},
	} {
		if got := cacheStatus(tc.h); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}
