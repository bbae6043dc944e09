package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/internal/keyerr"
)

// recorder stands in for Alertmanager's POST /api/v2/alerts: it keeps
// every post and answers 503 while failing is above zero (counting down).
type recorder struct {
	srv *httptest.Server

	mu      sync.Mutex
	posts   [][]Alert
	failing int
	hang    chan struct{} // when set, requests wait on it
	bad     []string      // what was wrong with a request
}

func newRecorder(t *testing.T) *recorder {
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		hang := r.hang
		r.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-req.Context().Done():
				return
			}
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Method != http.MethodPost || req.URL.Path != "/api/v2/alerts" || req.Header.Get("Content-Type") != "application/json" {
			r.bad = append(r.bad, req.Method+" "+req.URL.Path+" "+req.Header.Get("Content-Type"))
		}
		if r.failing > 0 {
			r.failing--
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		var alerts []Alert
		body, _ := io.ReadAll(req.Body)
		if err := json.Unmarshal(body, &alerts); err != nil {
			r.bad = append(r.bad, "body: "+err.Error())
		}
		r.posts = append(r.posts, alerts)
	}))
	t.Cleanup(func() {
		r.mu.Lock()
		if r.hang != nil {
			close(r.hang)
			r.hang = nil
		}
		r.mu.Unlock()
		r.srv.Close()
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.bad {
			t.Errorf("alertmanager stand-in got a bad request: %s", b)
		}
	})
	return r
}

// last is the newest post's alert for cdn, if any post had one.
func (r *recorder) last(cdn string) (Alert, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.posts) - 1; i >= 0; i-- {
		for _, a := range r.posts[i] {
			if a.Labels["cdn"] == cdn {
				return a, true
			}
		}
	}
	return Alert{}, false
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.posts)
}

// memJournal keeps the decisions recorded.
type memJournal struct {
	mu sync.Mutex
	ds []health.Decision
}

func (j *memJournal) Record(d health.Decision) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.ds = append(j.ds, d)
}

func (j *memJournal) kinds(kind string) []health.Decision {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []health.Decision
	for _, d := range j.ds {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

// quickParams degrade a CDN on one bad evaluation and bring it back to
// healthy in two good ones.
func quickParams() health.Params {
	p := health.DefaultParams()
	p.SmoothingDown, p.SmoothingUp, p.DownAfter, p.UpAfter, p.RecoveryStep = 1, 1, 1, 1, 1
	return p
}

func testHealth() health.Config {
	return health.Config{
		CDNs:     []health.CDNInfo{{Name: "akamai"}, {Name: "fastly"}},
		Regions:  []string{"default", "kr"},
		Policies: []health.PolicyInfo{{Name: "live", Params: quickParams(), Baseline: [][]float64{{50, 50}, {50, 50}}}},
	}
}

func signal(cdn, region string, good bool, at time.Time) health.Signal {
	s := health.Signal{CDN: cdn, Region: region, Time: at, Source: "test"}
	if good {
		s.Values[health.TTFB], s.Values[health.ErrorRate], s.Values[health.CacheHit] = health.F(100), health.F(0), health.F(0.99)
	} else {
		s.Values[health.TTFB], s.Values[health.ErrorRate] = health.F(900), health.F(1)
	}
	return s
}

// evaluate pushes one signal for cdn in region and evaluates.
func evaluate(e *health.Engine, cdn, region string, good bool) {
	now := time.Now()
	e.Push(signal(cdn, region, good, now))
	e.Evaluate(now)
}

type rig struct {
	m       *Manager
	engine  *health.Engine
	journal *memJournal
	reg     *prometheus.Registry
	cancel  context.CancelFunc
	done    <-chan struct{}
}

// start runs a manager for cfg over a real engine, stopped when the test
// ends.
func start(t *testing.T, cfg Config, restored []health.Decision) *rig {
	t.Helper()
	r := &rig{journal: &memJournal{}, reg: prometheus.NewRegistry()}
	r.m = New(cfg, Options{Journal: r.journal, Instance: "ns1", Registerer: r.reg, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBackoff: 20 * time.Millisecond, Resend: time.Hour, GeneratorURL: "http://127.0.0.1:8053/"})
	r.engine = health.NewEngine(testHealth(), r.m.Watch(r.journal))
	r.engine.Evaluate(time.Now())
	r.m.Restore(restored)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done = r.m.Start(ctx, r.engine)
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("the manager did not stop within 5 s")
		}
	})
	return r
}

// await polls cond every 10 ms for up to 5 s.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{Alertmanager: []string{"http://127.0.0.1:9093", "https://am.example.net/prefix/"}, After: 2 * time.Minute, Labels: map[string]string{"team": "video-ops", "instance": "ns1"}}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	if got := good.Endpoints(); got[0] != "http://127.0.0.1:9093/api/v2/alerts" || got[1] != "https://am.example.net/prefix/api/v2/alerts" {
		t.Errorf("Endpoints() = %v", got)
	}
	cases := []struct {
		cfg  Config
		keys []string
	}{
		{Config{}, []string{"alertmanager"}},
		{Config{Alertmanager: []string{"ftp://127.0.0.1:9093", "127.0.0.1:9093", "", "http://", "http://h:9093/?x=1"}},
			[]string{"alertmanager[0]", "alertmanager[1]", "alertmanager[2]", "alertmanager[3]", "alertmanager[4]"}},
		{Config{Alertmanager: []string{"http://a:9093", "http://a:9093/"}}, []string{"alertmanager[1]"}},
		{Config{Alertmanager: []string{"http://a:9093"}, After: -time.Second}, []string{"after"}},
		{Config{Alertmanager: []string{"http://a:9093"}, Labels: map[string]string{"cdn": "x", "9x": "y", "__x": "z", "team": " ", "alertname": "a"}},
			[]string{"labels.9x", "labels.__x", "labels.alertname", "labels.cdn", "labels.team"}},
	}
	for _, c := range cases {
		kes, others := keyerr.Split(c.cfg.Validate())
		var keys []string
		for _, e := range kes {
			keys = append(keys, e.Key)
		}
		if strings.Join(keys, " ") != strings.Join(c.keys, " ") || len(others) != 0 {
			t.Errorf("%+v: keys %v (others %v), want %v", c.cfg, keys, others, c.keys)
		}
	}
}

func TestAlertPayload(t *testing.T) {
	opened := time.Date(2026, 12, 12, 20, 10, 0, 0, time.FixedZone("KST", 9*3600))
	e := &health.Escalation{ID: "abc", CDN: "akamai", Region: "kr", Policies: []string{"live", "vod"}, Text: "KR PoPs failing",
		Who: "operator at 10.0.0.1", Why: "escalated by hand", Opened: opened}
	ends := opened.Add(4 * time.Minute)
	a := alertOf(e, "ns1", map[string]string{"team": "video-ops", "severity": "page"}, "http://127.0.0.1:8053/", ends)
	raw, err := json.Marshal([]Alert{a})
	if err != nil {
		t.Fatal(err)
	}
	// Alertmanager's API v2 postableAlert, as its OpenAPI spec names the
	// fields.
	var got []map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"labels": map[string]any{"alertname": "CDNSteeringEscalation", "cdn": "akamai", "region": "kr", "policy": "live,vod",
			"instance": "ns1", "team": "video-ops", "severity": "page"},
		"annotations": map[string]any{"summary": "akamai in region kr escalated by an operator", "text": "KR PoPs failing",
			"who": "operator at 10.0.0.1", "why": "escalated by hand", "escalation_id": "abc"},
		"startsAt":     "2026-12-12T11:10:00Z",
		"endsAt":       "2026-12-12T11:14:00Z",
		"generatorURL": "http://127.0.0.1:8053/",
	}
	wantRaw, _ := json.Marshal([]any{want})
	gotRaw, _ := json.Marshal(got)
	if string(gotRaw) != string(wantRaw) {
		t.Errorf("payload\n got %s\nwant %s", gotRaw, wantRaw)
	}

	// The policy may name the instance; it may not hide the escalation's
	// own labels (Validate refuses them; alertOf does not trust it).
	a = alertOf(e, "ns1", map[string]string{"instance": "ns2", "cdn": "x"}, "", ends)
	if a.Labels["instance"] != "ns2" || a.Labels["cdn"] != "akamai" {
		t.Errorf("labels %v", a.Labels)
	}
	if a = alertOf(e, "", nil, "", ends); a.Labels["instance"] != "unknown" {
		t.Errorf("without an instance: labels %v", a.Labels)
	}
	closed := *e
	closed.Closed, closed.Ended = opened.Add(time.Minute), "closed by an operator"
	if a = alertOf(&closed, "ns1", nil, "", closed.Closed); !a.EndsAt.Equal(closed.Closed) || a.Annotations["ended"] != "closed by an operator" {
		t.Errorf("resolved alert: ends %v, annotations %v", a.EndsAt, a.Annotations)
	}
}

func TestBackoff(t *testing.T) {
	var got []time.Duration
	for n := 0; n <= 8; n++ {
		got = append(got, backoff(n, 30*time.Second))
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff(0..8) = %v, want %v", got, want)
		}
	}
	if b := backoff(1000, time.Minute); b != time.Minute {
		t.Errorf("backoff(1000) = %v: a long outage must not overflow the shift", b)
	}
}

// TestManualEscalationSentAndResolved opens an escalation by hand, sees
// it posted firing with every label, refused twins and bad requests
// change nothing, and closing it posts it resolved.
func TestManualEscalationSentAndResolved(t *testing.T) {
	am := newRecorder(t)
	r := start(t, Config{Alertmanager: []string{am.srv.URL}, Labels: map[string]string{"team": "video-ops"}}, nil)

	for _, c := range []struct{ cdn, region, text, key string }{
		{"", "kr", "x", "cdn"}, {"nope", "kr", "x", "cdn"}, {"akamai", "", "x", "region"}, {"akamai", "mars", "x", "region"},
		{"akamai", "kr", "  ", "text"}, {"akamai", "kr", strings.Repeat("x", maxText+1), "text"},
	} {
		_, err := r.m.Open(c.cdn, c.region, c.text, "test")
		if ke, ok := errors.AsType[*keyerr.Error](err); !ok || ke.Key != c.key {
			t.Errorf("Open(%q, %q, %q) = %v, want a key error of %q", c.cdn, c.region, c.text, err, c.key)
		}
	}
	if v := r.m.View(); len(v.Escalations) != 0 || len(r.journal.kinds(health.DecisionEscalation)) != 0 {
		t.Fatalf("refused requests changed something: %+v", v)
	}

	e, err := r.m.Open("akamai", "kr", "KR PoPs failing, please call Akamai", "operator at 127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Open("akamai", "kr", "again", "test"); !errors.As(err, new(*OpenError)) {
		t.Errorf("a second escalation of akamai in kr: %v, want an OpenError", err)
	}
	await(t, "the firing alert", func() bool { _, ok := am.last("akamai"); return ok })
	a, _ := am.last("akamai")
	if a.Labels["alertname"] != AlertName || a.Labels["region"] != "kr" || a.Labels["policy"] != "live" || a.Labels["instance"] != "ns1" ||
		a.Labels["team"] != "video-ops" || a.Annotations["text"] != e.Text || !a.StartsAt.Equal(e.Opened) || !a.EndsAt.After(time.Now()) {
		t.Errorf("firing alert %+v", a)
	}
	if _, err := r.m.Close("nope", ""); err != ErrNotFound {
		t.Errorf("closing an unknown escalation: %v", err)
	}
	closed, err := r.m.Close(e.ID, "Akamai is on it")
	if err != nil || closed.Ended != "closed by an operator: Akamai is on it" {
		t.Fatalf("Close = %+v, %v", closed, err)
	}
	await(t, "the resolved alert", func() bool { a, _ := am.last("akamai"); return a.EndsAt.Equal(closed.Closed) })
	if got := len(r.journal.kinds(health.DecisionEscalation)) + len(r.journal.kinds(health.DecisionEscalationEnd)); got != 2 {
		t.Errorf("%d escalation records in the journal, want the opening and the closing", got)
	}
	v := r.m.View()
	if len(v.Escalations) != 1 || v.Escalations[0].State != "closed" || v.Alertmanagers[0].Pending != 0 || v.Alertmanagers[0].LastSuccess.IsZero() {
		t.Errorf("view after closing: %+v", v)
	}
	if n := testutil.ToFloat64(r.m.sent.WithLabelValues(am.srv.URL)); n < 2 {
		t.Errorf("alerts sent = %v, want the firing and the resolved one at least", n)
	}
}

// TestRetriesWhileAlertmanagerFails: posts answered 503 are retried with
// backoff, counted as failed, and the alert gets through once it answers.
func TestRetriesWhileAlertmanagerFails(t *testing.T) {
	am := newRecorder(t)
	am.failing = 3
	r := start(t, Config{Alertmanager: []string{am.srv.URL}}, nil)
	if _, err := r.m.Open("fastly", "default", "stalls everywhere", "test"); err != nil {
		t.Fatal(err)
	}
	await(t, "the alert after three failures", func() bool { _, ok := am.last("fastly"); return ok })
	if n := testutil.ToFloat64(r.m.failed.WithLabelValues(am.srv.URL)); n < 3 {
		t.Errorf("alerts failed = %v, want at least 3", n)
	}
	await(t, "the failures forgotten", func() bool {
		v := r.m.View().Alertmanagers[0]
		return v.Failures == 0 && v.LastError == "" && !v.LastSuccess.IsZero()
	})
}

// TestEngineNeverWaits: a status change is handed over without waiting,
// whether the manager is busy, stopped or its Alertmanager hangs; past
// the queue changes are dropped, counted, and read from the engine later.
func TestEngineNeverWaits(t *testing.T) {
	m := New(Config{}, Options{Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	j := m.Watch(nil)
	t0 := time.Now()
	for range statusQueue + 500 {
		j.Record(health.Decision{Kind: health.DecisionState, Policy: "live", Region: "kr", CDN: "akamai", To: "degraded"})
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("%d records took %s", statusQueue+500, d)
	}
	if n := testutil.ToFloat64(m.dropped); n != 500 {
		t.Errorf("dropped = %v, want 500", n)
	}
	if !m.lost.Load() {
		t.Error("a dropped change did not ask for the statuses to be read again")
	}

	am := newRecorder(t)
	am.hang = make(chan struct{})
	r := start(t, Config{Alertmanager: []string{am.srv.URL}, After: time.Millisecond}, nil)
	t0 = time.Now()
	for i := range 50 {
		evaluate(r.engine, "akamai", "kr", i%2 == 1)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("50 evaluations with a hung Alertmanager took %s", d)
	}
}

// TestAutomaticEscalation: a CDN degraded longer than after escalates by
// itself, in the log and at Alertmanager; healthy again, the alert
// resolves; an operator's closing is not undone while it stays degraded.
func TestAutomaticEscalation(t *testing.T) {
	am := newRecorder(t)
	r := start(t, Config{Alertmanager: []string{am.srv.URL}, After: 200 * time.Millisecond}, nil)

	evaluate(r.engine, "fastly", "kr", false)
	await(t, "the automatic escalation", func() bool { _, ok := am.last("fastly"); return ok })
	a, _ := am.last("fastly")
	states := r.journal.kinds(health.DecisionState)
	if len(states) != 1 || states[0].To != "degraded" {
		t.Fatalf("state changes %+v", states)
	}
	if d := a.StartsAt.Sub(states[0].Time); d < 200*time.Millisecond {
		t.Errorf("escalated %s after the CDN degraded, before after = 200ms", d)
	}
	if a.Labels["region"] != "kr" || a.Labels["policy"] != "live" || a.Annotations["who"] != "cdnsteer" || !strings.Contains(a.Annotations["why"], "score") {
		t.Errorf("automatic alert %+v", a)
	}
	v := r.m.View()
	if len(v.Escalations) != 1 || !v.Escalations[0].Auto || v.After != "200ms" {
		t.Fatalf("view %+v", v)
	}
	id := v.Escalations[0].ID

	// Healthy again: resolved.
	evaluate(r.engine, "fastly", "kr", true)
	evaluate(r.engine, "fastly", "kr", true)
	await(t, "the alert resolved", func() bool { a, _ := am.last("fastly"); return !a.EndsAt.After(time.Now()) })
	ends := r.journal.kinds(health.DecisionEscalationEnd)
	if len(ends) != 1 || ends[0].Escalation.ID != id || ends[0].Reason != "the CDN is healthy again" {
		t.Errorf("escalation_end records %+v", ends)
	}

	// Degraded again: a new escalation, which an operator closes; it is
	// not reopened while the CDN stays degraded.
	evaluate(r.engine, "fastly", "kr", false)
	await(t, "the second escalation", func() bool { return len(r.journal.kinds(health.DecisionEscalation)) == 2 })
	second := r.m.View().Escalations[0]
	if _, err := r.m.Close(second.ID, "known: Fastly KR maintenance"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond) // two `after`s: a reopening would have happened
	evaluate(r.engine, "fastly", "kr", false)
	if n := len(r.journal.kinds(health.DecisionEscalation)); n != 2 {
		t.Errorf("%d escalations opened: closing by hand was undone while the CDN stayed degraded", n)
	}
}

// TestManualEscalationOfHealthyCDN stays open: operators may see trouble
// the scores do not; it resolves once the CDN has been unhealthy and is
// healthy again.
func TestManualEscalationOfHealthyCDN(t *testing.T) {
	am := newRecorder(t)
	r := start(t, Config{Alertmanager: []string{am.srv.URL}}, nil)
	e, err := r.m.Open("akamai", "default", "viewers complain, scores look fine", "test")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		evaluate(r.engine, "akamai", "default", true)
	}
	await(t, "the firing alert", func() bool { _, ok := am.last("akamai"); return ok })
	if v := r.m.View(); len(v.Escalations) != 1 || v.Escalations[0].State != "open" {
		t.Fatalf("a healthy CDN's escalation closed by itself: %+v", v)
	}
	evaluate(r.engine, "akamai", "default", false)
	evaluate(r.engine, "akamai", "default", true)
	evaluate(r.engine, "akamai", "default", true)
	await(t, "the escalation resolved", func() bool { v := r.m.View(); return len(v.Escalations) == 1 && v.Escalations[0].State == "closed" })
	if v := r.m.View(); v.Escalations[0].ID != e.ID {
		t.Errorf("view %+v", v)
	}
}

// TestRestoreKeepsOpenEscalations: the escalations a decision log left
// open are open again after a restart and sent again; closed ones stay
// closed; one of a CDN gone from the policy closes.
func TestRestoreKeepsOpenEscalations(t *testing.T) {
	at := time.Now().Add(-time.Hour)
	esc := func(id, cdn, region string) *health.Escalation {
		return &health.Escalation{ID: id, CDN: cdn, Region: region, Policies: []string{"live"}, Text: "t " + id, Who: "op", Opened: at}
	}
	ended := *esc("b", "fastly", "kr")
	ended.Closed, ended.Ended = at.Add(time.Minute), "closed by an operator"
	ds := []health.Decision{
		{Time: at, Kind: health.DecisionEscalation, Escalation: esc("a", "akamai", "kr")},
		{Time: at, Kind: health.DecisionEscalation, Escalation: esc("b", "fastly", "kr")},
		{Time: at, Kind: health.DecisionAnnotation, Annotation: &health.Annotation{ID: "n", Text: "kick-off"}},
		{Time: at.Add(time.Minute), Kind: health.DecisionEscalationEnd, Escalation: &ended},
		{Time: at.Add(2 * time.Minute), Kind: health.DecisionEscalation, Escalation: esc("c", "edgio", "kr")},
	}
	am := newRecorder(t)
	r := start(t, Config{Alertmanager: []string{am.srv.URL}}, ds)
	await(t, "the restored escalation sent", func() bool { a, ok := am.last("akamai"); return ok && a.StartsAt.Equal(at) })
	await(t, "the escalation of a CDN no longer in the policy closed", func() bool {
		return len(r.journal.kinds(health.DecisionEscalationEnd)) == 1
	})
	v := r.m.View()
	var states []string
	for _, it := range v.Escalations {
		states = append(states, it.ID+"="+it.State)
	}
	if got := strings.Join(states, " "); got != "a=open c=closed b=closed" {
		t.Errorf("after the restart: %s, want a=open c=closed b=closed", got)
	}
	if _, ok := am.last("fastly"); ok {
		t.Error("an escalation closed before the restart was sent again")
	}
}
