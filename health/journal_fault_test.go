package health

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The decision log is written on a goroutine of its own so that a disk
// that is full, read-only or stuck loses log lines but never an evaluation
// or an answer. These tests put the journal on such disks under a real
// engine.

// faultCounter reads one of the journal's counters from reg (-1 if absent).
func faultCounter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

func faultConfig() Config {
	return Config{
		CDNs:    []CDNInfo{{"akamai", 400}, {"fastly", 250}},
		Regions: []string{"default"},
		Policies: []PolicyInfo{{
			Name:     "live",
			Params:   DefaultParams(),
			Baseline: [][]float64{{50, 50}},
		}},
	}
}

// faultEvaluate drives e for n evaluations a second apart from start,
// with akamai healthy and fastly failing from failFrom on; it returns the
// time after the last evaluation.
func faultEvaluate(e *Engine, start time.Time, n int, failFrom time.Time) time.Time {
	at := start
	for i := 0; i < n; i++ {
		e.Push(Signal{CDN: "akamai", Time: at, Values: Values{TTFB: F(120), ErrorRate: F(0.001), CacheHit: F(0.98)}, Source: "test"})
		if at.Before(failFrom) {
			e.Push(Signal{CDN: "fastly", Time: at, Values: Values{TTFB: F(120), ErrorRate: F(0.001), CacheHit: F(0.98)}, Source: "test"})
		} else {
			e.Push(Signal{CDN: "fastly", Time: at, Values: Values{TTFB: F(900), ErrorRate: F(1)}, Source: "test"})
		}
		e.Evaluate(at)
		at = at.Add(time.Second)
	}
	return at
}

// faultRecordBounded calls Record n times and fails the test if that does
// not return within limit: Record must never wait for the disk.
func faultRecordBounded(t *testing.T, j *FileJournal, n int, limit time.Duration) time.Duration {
	t.Helper()
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		for i := 0; i < n; i++ {
			j.Record(Decision{Time: time.Now(), Kind: DecisionAnnotation, Reason: "fault test", Annotation: &Annotation{ID: "x", Text: "fault test"}})
		}
		done <- time.Since(start)
	}()
	select {
	case took := <-done:
		return took
	case <-time.After(limit):
		t.Fatalf("%d calls to Record did not return within %s: Record blocks", n, limit)
		return 0
	}
}

// faultClose closes j within a bounded time.
func faultClose(t *testing.T, j *FileJournal) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- j.Close() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return within 10s")
	}
}

// faultCheckEngine runs an engine on j through a CDN failure and checks
// that the evaluations went on regardless of the journal: fastly is
// degraded to weight 0 and akamai takes the traffic.
func faultCheckEngine(t *testing.T, j Journal) {
	t.Helper()
	e := NewEngine(faultConfig(), j)
	t0 := time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)
	at := faultEvaluate(e, t0, 10, t0.Add(5*time.Second))
	w := e.Table().Get(0, 0)
	if w == nil || w.W[1] != 0 || w.W[0] <= 0 {
		t.Fatalf("after fastly failed for 5 evaluations the live weights are %+v, want akamai > 0, fastly 0", w)
	}
	// And it recovers, still with the journal failing.
	faultEvaluate(e, at, 60, at.Add(time.Hour))
	if w := e.Table().Get(0, 0); w == nil || w.W[1] <= 0 {
		t.Fatalf("after fastly recovered for 60 evaluations the live weights are %+v, want fastly back", w)
	}
}

// TestJournalOnFullDisk writes the decision log to /dev/full, which opens
// and then fails every write with ENOSPC: the engine keeps evaluating,
// Record never blocks, the error counter rises, nothing panics.
func TestJournalOnFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full on this system: %v", err)
	}
	reg := prometheus.NewRegistry()
	j, err := OpenJournal("/dev/full", reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("OpenJournal(/dev/full): %v", err)
	}

	faultCheckEngine(t, j)
	took := faultRecordBounded(t, j, 3*journalQueue, 5*time.Second)
	t.Logf("%d Record calls on a full disk took %s", 3*journalQueue, took)

	deadline := time.Now().Add(5 * time.Second)
	for faultCounter(t, reg, "cdnsteer_decision_log_errors_total") < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	errs := faultCounter(t, reg, "cdnsteer_decision_log_errors_total")
	written := faultCounter(t, reg, "cdnsteer_decision_log_written_total")
	dropped := faultCounter(t, reg, "cdnsteer_decision_log_dropped_total")
	if errs < 10 {
		t.Errorf("cdnsteer_decision_log_errors_total = %v after many failed writes, want it to rise", errs)
	}
	if written != 0 {
		t.Errorf("cdnsteer_decision_log_written_total = %v on /dev/full, want 0", written)
	}
	if j.Healthy() {
		t.Error("Healthy() = true while every write fails")
	}
	t.Logf("errors %v, written %v, dropped %v", errs, written, dropped)
	faultClose(t, j)
}

// TestJournalOnReadOnlyFile covers a decision log that cannot be written:
// a read-only file cannot be opened for writing at all (then the server
// runs without a journal, which must not matter to the engine), and a log
// whose file turns read-only after it was opened (a file system remounted
// read-only) fails each write with EBADF; the engine keeps evaluating,
// Record never blocks, the error counter rises, and writing resumes when
// the file is writable again.
func TestJournalOnReadOnlyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "decisions.jsonl")
	if err := os.WriteFile(path, nil, 0o444); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))

	t.Run("cannot be opened", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root may write to a file with mode 0444; covered by the subtest below")
		}
		j, err := OpenJournal(path, prometheus.NewRegistry(), logger)
		if err == nil {
			j.Close()
			t.Fatal("OpenJournal on a read-only file succeeded")
		}
		if !errors.Is(err, os.ErrPermission) {
			t.Errorf("OpenJournal on a read-only file: %v, want a permission error", err)
		}
		// The server then runs without a journal (serve.go's openJournal).
		faultCheckEngine(t, nil)
	})

	t.Run("turns read-only after opening", func(t *testing.T) {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		reg := prometheus.NewRegistry()
		j, err := OpenJournal(path, reg, logger)
		if err != nil {
			t.Fatalf("OpenJournal: %v", err)
		}
		// Swap the journal's file for a read-only descriptor of the same
		// file, as a remount read-only would leave it: writes fail (EBADF).
		ro, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		j.mu.Lock()
		rw := j.f
		j.f = ro
		j.mu.Unlock()

		faultCheckEngine(t, j)
		faultRecordBounded(t, j, 3*journalQueue, 5*time.Second)
		deadline := time.Now().Add(5 * time.Second)
		for faultCounter(t, reg, "cdnsteer_decision_log_errors_total") < 10 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if errs := faultCounter(t, reg, "cdnsteer_decision_log_errors_total"); errs < 10 {
			t.Errorf("cdnsteer_decision_log_errors_total = %v after writes to a read-only file, want it to rise", errs)
		}
		if j.Healthy() {
			t.Error("Healthy() = true while writes fail")
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
			t.Errorf("the read-only log grew: %v %v", fi, err)
		}

		// Writable again: the next decisions are written and the journal
		// says so. First let the writer fail through what is queued.
		deadline = time.Now().Add(5 * time.Second)
		for len(j.queue.ch) > 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		j.mu.Lock()
		j.f = rw
		j.mu.Unlock()
		ro.Close()
		before := faultCounter(t, reg, "cdnsteer_decision_log_written_total")
		j.Record(Decision{Time: time.Now(), Kind: DecisionReload, Reason: "writable again"})
		deadline = time.Now().Add(5 * time.Second)
		for faultCounter(t, reg, "cdnsteer_decision_log_written_total") <= before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !j.Healthy() {
			t.Error("Healthy() = false after a write succeeded again")
		}
		faultClose(t, j)
		ds, skipped, err := ReadJournal(path)
		// At most one decision that was already dequeued when the file
		// was swapped back may precede it.
		if err != nil || skipped != 0 || len(ds) == 0 || len(ds) > 2 || ds[len(ds)-1].Reason != "writable again" {
			last := ""
			if len(ds) > 0 {
				last = ds[len(ds)-1].Kind + " " + ds[len(ds)-1].Reason
			}
			t.Errorf("ReadJournal after recovery = %d decisions (last: %s), %d skipped, %v; want the one written after recovery last", len(ds), last, skipped, err)
		}
	})
}

// TestJournalRecordWhileWriterStuck holds the writer in the middle of a
// write (a disk that hangs: NFS, a dying drive) and checks that Record
// still returns at once, dropping and counting what does not fit in the
// queue, and that the engine keeps evaluating meanwhile.
func TestJournalRecordWhileWriterStuck(t *testing.T) {
	reg := prometheus.NewRegistry()
	j, err := OpenJournal(filepath.Join(t.TempDir(), "decisions.jsonl"), reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// The writer takes j.mu around each write: holding it stalls the writer.
	j.mu.Lock()
	faultRecordBounded(t, j, 3*journalQueue, 5*time.Second)
	faultCheckEngine(t, j)
	dropped := faultCounter(t, reg, "cdnsteer_decision_log_dropped_total")
	j.mu.Unlock()
	if dropped < float64(journalQueue) {
		t.Errorf("cdnsteer_decision_log_dropped_total = %v with the writer stuck and %d decisions recorded, want at least %d", dropped, 3*journalQueue, journalQueue)
	}
	faultClose(t, j)
}

func TestJournalAfterClose(t *testing.T) {
	j, err := OpenJournal(filepath.Join(t.TempDir(), "d.jsonl"), prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j.Record(Decision{Kind: DecisionReload}) // must not panic
	if err := j.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if got := testutil.ToFloat64(j.dropped); got != 1 {
		t.Errorf("dropped = %v, want 1", got)
	}
}
