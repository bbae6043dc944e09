package admin

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cdnsteer/cdnsteer/health"
)

// fakeFleet records what the endpoint hands the fleet.
type fakeFleet struct {
	mu      sync.Mutex
	added   []health.Override
	ended   []string
	notes   []string
	signals int
}

func (f *fakeFleet) OverrideAdded(o health.Override) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, o)
}

func (f *fakeFleet) OverrideEnded(o health.Override, at time.Time, reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended = append(f.ended, o.ID+" "+reason)
}

func (f *fakeFleet) AnnotationAdded(n health.Annotation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, n.ID)
}

func (f *fakeFleet) SignalsPushed(sigs []health.Signal) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signals += len(sigs)
}

func (f *fakeFleet) Status(now time.Time) any {
	return map[string]any{"enabled": true, "instance": "ns1"}
}

// TestStandaloneFleet: without [fleet], GET /api/v1/fleet says so.
func TestStandaloneFleet(t *testing.T) {
	f := newFixture(t)
	r := f.get("/api/v1/fleet")
	if m := r.json(t); r.code != http.StatusOK || m["enabled"] != false {
		t.Fatalf("GET /api/v1/fleet standing alone: %d %s", r.code, r.body)
	}
	expectError(t, f.get("/api/v1/fleet?x=1"), http.StatusBadRequest, "x")
}

// TestWritesReachTheFleet: every write the API accepts is handed to the
// fleet, with the override's ID as the engine made it; a refused write
// hands nothing.
func TestWritesReachTheFleet(t *testing.T) {
	fl := &fakeFleet{}
	f := newFixture(t, func(c *Config) { c.Fleet = fl })
	expectError(t, f.write("POST", "/api/v1/overrides", `{"action": "drain", "cdn": "nope", "ttl": "10m", "reason": "x"}`), http.StatusBadRequest, "cdn")
	r := f.write("POST", "/api/v1/overrides", `{"action": "drain", "cdn": "akamai", "region": "kr", "ttl": "10m", "reason": "PoP issue"}`)
	if r.code != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := f.write("DELETE", "/api/v1/overrides/"+id+"?reason=fixed", ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.code, r.body)
	}
	if r := f.write("POST", "/api/v1/annotations", `{"text": "kick-off"}`); r.code != http.StatusCreated {
		t.Fatalf("note: %d %s", r.code, r.body)
	}
	if r := f.write("POST", "/api/v1/signals", `{"signals": [{"cdn": "fastly", "ttfb_ms": 100}]}`); r.code != http.StatusAccepted {
		t.Fatalf("signals: %d %s", r.code, r.body)
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if len(fl.added) != 1 || fl.added[0].ID != id || len(fl.ended) != 1 || fl.ended[0] != id+" fixed (by "+testWriter+")" || len(fl.notes) != 1 || fl.signals != 1 {
		t.Fatalf("handed to the fleet: added %+v ended %v notes %v signals %d", fl.added, fl.ended, fl.notes, fl.signals)
	}
	if r := f.get("/api/v1/fleet"); r.json(t)["instance"] != "ns1" {
		t.Fatalf("GET /api/v1/fleet: %s", r.body)
	}
}

// TestAnnotationsPutKeepsIDAndDedups: a note from a peer keeps its ID and
// time, is journaled, and a second copy changes nothing.
func TestAnnotationsPutKeepsIDAndDedups(t *testing.T) {
	j := &memJournal{}
	a := NewAnnotations(nil, j)
	now := time.Date(2026, 6, 11, 20, 0, 0, 0, time.UTC)
	n := health.Annotation{ID: "abc", Time: now.Add(-time.Minute), Text: "kick-off"}
	for i, want := range []bool{true, false} {
		added, err := a.Put(n, now)
		if err != nil || added != want {
			t.Fatalf("put %d: %v %v", i, added, err)
		}
	}
	if got := a.Since(time.Time{}); len(got) != 1 || got[0].ID != "abc" || !got[0].Time.Equal(n.Time) {
		t.Fatalf("notes: %+v", got)
	}
	if len(j.kind(health.DecisionAnnotation)) != 1 {
		t.Fatal("a note from a peer must be journaled once")
	}
	if _, err := a.Put(health.Annotation{Time: now, Text: "no id"}, now); err == nil {
		t.Fatal("a note without its id was taken")
	}
}
