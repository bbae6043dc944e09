// Package edges runs simulated CDN edges: HTTP servers on loopback that
// serve a test object the way a real edge would, with knobs for latency,
// error rate, cache hit ratio and bandwidth that can be turned while they
// run. The demo points the real probe runner at them, so that degrading
// an edge moves the health engine exactly as a real incident would.
package edges

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// ObjectPath is where an edge serves its test object.
	ObjectPath = "/live/seg.ts"
	// ObjectSize is the test object's size: about a tenth of a second of
	// HD video, big enough for a download rate to mean something and small
	// enough that a healthy edge answers a probe in milliseconds.
	ObjectSize = 128 << 10
	// chunk is how much body is written between pacing pauses.
	chunk = 8 << 10
)

// object is the test object: MPEG-TS packets (0x47 sync byte, 188 bytes
// each), so that it looks like what a live edge serves.
var object = func() []byte {
	b := make([]byte, ObjectSize)
	for i := range b {
		if i%188 == 0 {
			b[i] = 0x47
		} else {
			b[i] = byte(i * 31)
		}
	}
	return b
}()

// Stats count what an edge has answered since it started.
type Stats struct {
	Requests  uint64 `json:"requests"`
	Errors    uint64 `json:"errors"`
	CacheHits uint64 `json:"cache_hits"`
	// Media requests are players' (playlists and segments), apart from
	// the probes' above.
	MediaRequests uint64 `json:"media_requests"`
	MediaErrors   uint64 `json:"media_errors"`
}

// Edge is one simulated CDN edge listening on 127.0.0.1.
type Edge struct {
	name string
	ln   net.Listener
	srv  *http.Server

	mu    sync.Mutex
	knobs Knobs

	requests, errors, hits atomic.Uint64

	media                      atomic.Pointer[mediaBox]
	mediaRequests, mediaErrors atomic.Uint64
}

// Start runs an edge named name (a CDN name, for messages) with knobs k
// on an ephemeral loopback port. It only ever binds 127.0.0.1: a
// simulated edge has no business on a real network.
func Start(name string, k Knobs) (*Edge, error) {
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("edge %s: %w", name, err)
	}
	e := &Edge{name: name, ln: ln, knobs: k}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ObjectPath, e.serveObject)
	mux.HandleFunc("GET "+MediaPrefix, e.serveMedia)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "cdnsteer simulated edge %q; test object at %s\n", name, ObjectPath)
	})
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// Name is the CDN the edge stands for.
func (e *Edge) Name() string { return e.name }

// URL is the test object's URL, for a probe.
func (e *Edge) URL() string { return "http://" + e.ln.Addr().String() + ObjectPath }

// Knobs returns the knobs in force.
func (e *Edge) Knobs() Knobs {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.knobs
}

// Update applies p and returns the knobs now in force. If the result is
// out of range nothing changes and the error is a *keyerr.Error.
func (e *Edge) Update(p Patch) (Knobs, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := p.Apply(e.knobs)
	if err := next.Validate(); err != nil {
		return e.knobs, err
	}
	e.knobs = next
	return next, nil
}

// Stats returns the edge's counters.
func (e *Edge) Stats() Stats {
	return Stats{Requests: e.requests.Load(), Errors: e.errors.Load(), CacheHits: e.hits.Load(),
		MediaRequests: e.mediaRequests.Load(), MediaErrors: e.mediaErrors.Load()}
}

// Close stops the edge, aborting requests in flight.
func (e *Edge) Close() error {
	err := e.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// serveObject answers one request as the knobs say: wait, then fail or
// send the object at the set bandwidth. The knobs are read once, so a
// change lands on the next request, not halfway through a body.
func (e *Edge) serveObject(w http.ResponseWriter, r *http.Request) {
	k := e.Knobs()
	e.requests.Add(1)
	ctx := r.Context()
	if !sleep(ctx, time.Duration(k.LatencyMs*float64(time.Millisecond))) {
		return
	}
	h := w.Header()
	h.Set("Server", "cdnsteer-edgesim")
	if rand.Float64() < k.ErrorRate {
		e.errors.Add(1)
		h.Set("Retry-After", "1")
		http.Error(w, "simulated edge "+e.name+": overloaded", http.StatusServiceUnavailable)
		return
	}
	cache := "MISS"
	if rand.Float64() < k.CacheHitRatio {
		cache = "HIT"
		e.hits.Add(1)
	}
	h.Set("X-Cache", cache+" from edgesim-"+e.name)
	h.Set("Content-Type", "video/mp2t")
	h.Set("Content-Length", strconv.Itoa(len(object)))
	h.Set("Cache-Control", "max-age=2")
	w.WriteHeader(http.StatusOK)
	send(w, r, object, k.BandwidthMbps)
}

// sleep waits d or until ctx ends, reporting whether it waited in full.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
