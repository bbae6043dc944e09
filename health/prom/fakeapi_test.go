package prom

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

// answer is what the fake Prometheus says to one query.
type answer struct {
	status   int                 // HTTP status; 0 means 200
	errType  string              // error reply when set, e.g. "bad_data"
	rtype    string              // result type; "" means vector
	series   []map[string]string // label sets; the value is the "value" key
	warnings []string
	wait     chan struct{} // reply only once closed (or the client gives up)
}

// fakeProm speaks enough of the Prometheus HTTP API for the source: an
// instant query, answered per PromQL expression. Samples carry the time
// the query asked for, as Prometheus's do.
type fakeProm struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]answer
	hits    int
}

func newFakeProm(t *testing.T) *fakeProm {
	t.Helper()
	f := &fakeProm{answers: map[string]answer{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProm) set(query string, a answer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[query] = a
}

func (f *fakeProm) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits
}

func (f *fakeProm) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	q, ts := r.FormValue("query"), r.FormValue("time")
	f.mu.Lock()
	f.hits++
	a, ok := f.answers[q]
	f.mu.Unlock()
	if !ok {
		a = answer{status: http.StatusBadRequest, errType: "bad_data"}
	}
	if a.wait != nil {
		select {
		case <-a.wait:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if a.status != 0 {
		w.WriteHeader(a.status)
	}
	if a.errType != "" {
		_ = json.NewEncoder(w).Encode(map[string]string{
			"status": "error", "errorType": a.errType, "error": "cannot run " + q,
		})
		return
	}
	t, _ := strconv.ParseFloat(ts, 64)
	var result []any
	for _, s := range a.series {
		metric := map[string]string{}
		for k, v := range s {
			if k != "value" {
				metric[k] = v
			}
		}
		result = append(result, map[string]any{"metric": metric, "value": []any{t, s["value"]}})
	}
	rtype := a.rtype
	if rtype == "" {
		rtype = "vector"
	}
	data := map[string]any{"resultType": rtype, "result": result}
	if rtype == "scalar" {
		data["result"] = []any{t, "1"}
	}
	body := map[string]any{"status": "success", "data": data}
	if len(a.warnings) > 0 {
		body["warnings"] = a.warnings
	}
	_ = json.NewEncoder(w).Encode(body)
}

// series builds a label set for an answer: label pairs, then the value.
func series(value string, labels ...string) map[string]string {
	m := map[string]string{"value": value}
	for i := 0; i < len(labels); i += 2 {
		m[labels[i]] = labels[i+1]
	}
	return m
}

// collector is a sink that keeps what it is handed.
type collector struct {
	mu   sync.Mutex
	sigs []health.Signal
}

func (c *collector) sink(s health.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sigs = append(c.sigs, s)
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sigs)
}

// take returns the signals so far and forgets them.
func (c *collector) take() []health.Signal {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sigs
	c.sigs = nil
	return s
}

// logBuf is a slog destination that tests can read while the source writes.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), substr)
}

// testSource is a Source on its own registry, with its signals and logs kept.
type testSource struct {
	*Source
	reg  *prometheus.Registry
	got  *collector
	logs *logBuf
}

func newTestSource(t *testing.T, cfg Config) testSource {
	t.Helper()
	ts := testSource{reg: prometheus.NewRegistry(), got: &collector{}, logs: &logBuf{}}
	log := slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Timestamps == nil && cfg.Stamp == "" {
		// The tests of everything but dating take the query's instant.
		cfg.Stamp = StampQuery
	}
	s, err := New(cfg, ts.reg, ts.got.sink, log)
	if err != nil {
		t.Fatal(err)
	}
	ts.Source = s
	return ts
}
