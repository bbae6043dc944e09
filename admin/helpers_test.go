package admin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

// The fixture's tokens: one that may write, one that may only read.
const (
	testToken     = "test-token-0123456789"
	testReadToken = "read-token-9876543210"
	testWriter    = "ops"
	testReader    = "viewer"
)

// testTokens is the fixture's token file.
const testTokens = "# the fixture's tokens\n" + testWriter + " " + testToken + " write\n" + testReader + " " + testReadToken + " read\n"

var t0 = time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)

// memJournal keeps decisions in memory for assertions.
type memJournal struct {
	mu sync.Mutex
	ds []health.Decision
}

func (m *memJournal) Record(d health.Decision) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ds = append(m.ds, d)
}

func (m *memJournal) all() []health.Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]health.Decision(nil), m.ds...)
}

func (m *memJournal) kind(kind string) []health.Decision {
	var out []health.Decision
	for _, d := range m.all() {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// clock is a settable Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func testHealthConfig() health.Config {
	return health.Config{
		CDNs:    []health.CDNInfo{{Name: "akamai", CommitGbps: 400}, {Name: "cloudfront", CommitGbps: 300}, {Name: "edgio", CommitGbps: 150}, {Name: "fastly", CommitGbps: 250}},
		Regions: []string{"default", "kr"},
		Policies: []health.PolicyInfo{{
			Name:     "live",
			Params:   health.DefaultParams(),
			Baseline: [][]float64{{40, 15, 20, 25}, {30, 40, 10, 20}},
		}},
	}
}

// fixture is a real endpoint on loopback with a real engine behind it.
type fixture struct {
	t         *testing.T
	base      string
	srv       *Server
	engine    *health.Engine
	journal   *memJournal // the engine's and the annotations' decision log
	notes     *Annotations
	clock     *clock
	tokenFile string
}

// newFixture starts an endpoint; edit adjusts the Config before Listen.
func newFixture(t *testing.T, edit ...func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, journal: &memJournal{}, clock: &clock{t: t0}}
	f.tokenFile = filepath.Join(t.TempDir(), "admin.token")
	writeFile(t, f.tokenFile, testTokens)
	f.engine = health.NewEngine(testHealthConfig(), f.journal)
	f.engine.Evaluate(t0)
	f.notes = NewAnnotations(nil, f.journal)
	cfg := Config{
		Addr:        "127.0.0.1:0",
		Gatherer:    prometheus.NewRegistry(),
		Engine:      f.engine,
		TokenFile:   f.tokenFile,
		Annotations: f.notes,
		Now:         f.clock.now,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, e := range edit {
		e(&cfg)
	}
	srv, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	f.srv, f.base = srv, "http://"+srv.Addr().String()
	return f
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reply is an answer read in full.
type reply struct {
	code   int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.code, err, r.body)
	}
	return m
}

// do sends a request with the bearer token (none when token is "").
func (f *fixture) do(method, path, body, token string) reply {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.base+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return reply{code: resp.StatusCode, header: resp.Header, body: b}
}

// get reads with the read token.
func (f *fixture) get(path string) reply {
	f.t.Helper()
	return f.do("GET", path, "", testReadToken)
}

// write sends an authorised request.
func (f *fixture) write(method, path, body string) reply {
	f.t.Helper()
	return f.do(method, path, body, testToken)
}

// expectError checks an error answer: its status, that it is JSON with an
// error message, and the field it names ("" for none).
func expectError(t *testing.T, r reply, code int, field string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("status %d, want %d: %s", r.code, code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	m := r.json(t)
	if msg, _ := m["error"].(string); msg == "" {
		t.Errorf("no error message: %s", r.body)
	}
	if got, _ := m["field"].(string); got != field {
		t.Errorf("field %q, want %q: %s", got, field, r.body)
	}
}

// state is everything a write can change, for "nothing changed" checks.
type state struct {
	view    []byte
	notes   []health.Annotation
	journal []health.Decision
}

func (f *fixture) state() state {
	f.t.Helper()
	v, err := json.Marshal(f.engine.View(f.clock.now()))
	if err != nil {
		f.t.Fatal(err)
	}
	return state{view: v, notes: f.notes.Since(time.Time{}), journal: f.journal.all()}
}

// unchanged fails if anything changed since before.
func (f *fixture) unchanged(before state) {
	f.t.Helper()
	after := f.state()
	if string(after.view) != string(before.view) {
		f.t.Errorf("engine state changed:\nbefore %s\nafter  %s", before.view, after.view)
	}
	if !reflect.DeepEqual(after.notes, before.notes) {
		f.t.Errorf("annotations changed: before %v, after %v", before.notes, after.notes)
	}
	if !reflect.DeepEqual(after.journal, before.journal) {
		f.t.Errorf("decision log changed: before %d entries, after %d", len(before.journal), len(after.journal))
	}
}

// signals evaluates and returns what the engine holds for a CDN in a
// region of the "live" policy.
// utilisation is the engine's measured utilisation of a CDN's commit as
// the view of region shows it.
func (f *fixture) utilisation(region, cdn string) *float64 {
	f.t.Helper()
	f.engine.Evaluate(f.clock.now())
	for _, p := range f.engine.View(f.clock.now()).Policies {
		for _, r := range p.Regions {
			for _, c := range r.CDNs {
				if r.Name == region && c.Name == cdn {
					return c.Utilisation
				}
			}
		}
	}
	f.t.Fatalf("no %s in %s", cdn, region)
	return nil
}

func (f *fixture) signals(region, cdn string) health.Readings {
	f.t.Helper()
	f.engine.Evaluate(f.clock.now())
	for _, p := range f.engine.View(f.clock.now()).Policies {
		for _, r := range p.Regions {
			if r.Name != region {
				continue
			}
			for _, c := range r.CDNs {
				if c.Name == cdn {
					return c.Signals
				}
			}
		}
	}
	f.t.Fatalf("no CDN %s in region %s", cdn, region)
	return health.Readings{}
}

// noSignals fails if any CDN in any region has a signal.
func (f *fixture) noSignals() {
	f.t.Helper()
	for _, region := range []string{"default", "kr"} {
		for _, cdn := range []string{"akamai", "cloudfront", "edgio", "fastly"} {
			if r := f.signals(region, cdn); r != (health.Readings{}) {
				f.t.Errorf("%s in %s has signals %+v after a rejected push", cdn, region, r)
			}
		}
	}
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
