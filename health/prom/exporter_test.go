package prom

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// exporter serves metrics in the text exposition format, with values the
// test sets, for a real Prometheus to scrape.
type exporter struct {
	*httptest.Server
	mu     sync.Mutex
	values map[string]float64 // series, e.g. cdn_ttfb_ms{cdn="fastly"}, to value
	// stamps date series explicitly, as an exporter of a lagging log feed
	// does; a series without one is dated at the scrape.
	stamps map[string]time.Time
}

func newExporter(t *testing.T, values map[string]float64) *exporter {
	t.Helper()
	e := &exporter{values: values}
	// httptest listens on 127.0.0.1 only.
	e.Server = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.Close)
	return e
}

// stamp dates series at at in every scrape from now on.
func (e *exporter) stamp(series string, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stamps == nil {
		e.stamps = map[string]time.Time{}
	}
	e.stamps[series] = at
}

func (e *exporter) set(series string, v float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.values[series] = v
}

func (e *exporter) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		http.NotFound(w, r)
		return
	}
	e.mu.Lock()
	lines := make([]string, 0, len(e.values))
	for s, v := range e.values {
		line := s + " " + strconv.FormatFloat(v, 'g', -1, 64)
		if at, ok := e.stamps[s]; ok {
			line += " " + strconv.FormatInt(at.UnixMilli(), 10)
		}
		lines = append(lines, line)
	}
	e.mu.Unlock()
	// Sorting keeps each metric's series together, as the format requires.
	slices.Sort(lines)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintln(w, strings.Join(lines, "\n"))
}
