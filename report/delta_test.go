package report

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
)

// memLog keeps what the engine records, each decision as a log line
// would read back.
type memLog struct {
	t  *testing.T
	ds []health.Decision
}

func (m *memLog) Record(d health.Decision) {
	b, err := json.Marshal(d)
	if err != nil {
		m.t.Fatal(err)
	}
	var back health.Decision
	if err := json.Unmarshal(b, &back); err != nil {
		m.t.Fatal(err)
	}
	m.ds = append(m.ds, back)
}

type tee []health.Journal

func (t tee) Record(d health.Decision) {
	for _, j := range t {
		j.Record(d)
	}
}

// engineLogs runs an engine for 20 minutes (every CDN at the TTFB given,
// fastly failing in kr from minute 3 to 8) and returns its checkpoints as
// the engine gave them (every state) and as the decision log wrote them
// (deltas after the first).
func engineLogs(t *testing.T, ttfbMs float64) (full, written []health.Decision) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	file, err := health.OpenJournal(path, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	mem := &memLog{t: t}
	cfg := health.Config{
		CDNs:    []health.CDNInfo{{Name: "akamai", CommitGbps: 400}, {Name: "fastly", CommitGbps: 250}},
		Regions: []string{"default", "kr"},
		Policies: []health.PolicyInfo{
			{Name: "live", Params: health.DefaultParams(), Baseline: [][]float64{{60, 40}, {50, 50}}},
			{Name: "vod", Params: health.DefaultParams(), Baseline: [][]float64{{30, 70}, {20, 80}}},
		},
	}
	cfg.Policies[1].Params.RecoveryStep = 0.005
	e := health.NewEngine(cfg, tee{mem, file})
	t0 := time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)
	for s := range 20 * 60 {
		at := t0.Add(time.Duration(s) * time.Second)
		for _, cdn := range []string{"akamai", "fastly"} {
			sig := health.Signal{CDN: cdn, Time: at, Source: "test", Values: health.Values{health.TTFB: health.F(ttfbMs), health.ErrorRate: health.F(0.001), health.CacheHit: health.F(0.98)}}
			e.Push(sig)
			if cdn == "fastly" && s >= 180 && s < 480 {
				sig.Region, sig.Values = "kr", health.Values{health.TTFB: health.F(900), health.ErrorRate: health.F(0.2)}
				e.Push(sig)
			}
		}
		e.Evaluate(at)
	}
	file.Close()
	written, _, err = health.ReadJournal(path)
	if err != nil || len(written) != len(mem.ds) {
		t.Fatalf("%d lines written of %d: %v", len(written), len(mem.ds), err)
	}
	deltas := 0
	for _, d := range written {
		if d.Delta {
			deltas++
		}
	}
	if deltas < 15 {
		t.Fatalf("%d delta checkpoints in 20 minutes", deltas)
	}
	return mem.ds, written
}

func renderLog(t *testing.T, ds []health.Decision) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, PostEvent(ds, 0, "decisions.jsonl")); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A log of delta checkpoints reports what the same log with every state
// in every checkpoint does: the scores' minutely points, the statuses,
// the page; merged with another instance's log, too.
func TestDeltaCheckpointsReportAsFullOnes(t *testing.T) {
	full, written := engineLogs(t, 120)
	want, got := Analyze(full, time.Time{}), Analyze(written, time.Time{})
	for k, pts := range want.Scores {
		if g := got.Scores[k]; len(g) != len(pts) {
			t.Fatalf("%v: %d score points, want %d", k, len(g), len(pts))
		}
	}
	if w, g := renderLog(t, full), renderLog(t, written); g != w {
		t.Error("the report of the log as written differs from the one of its full checkpoints")
	}
	// Another instance whose scores are not this one's: its delta's
	// unchanged states are its own full checkpoint's, not this one's.
	full2, written2 := engineLogs(t, 400)
	if w, g := renderLog(t, Merge(full, full2)), renderLog(t, Merge(written, written2)); g != w {
		t.Error("the report of two merged logs as written differs from the one of their full checkpoints")
	}
}
