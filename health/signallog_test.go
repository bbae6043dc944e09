package health

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// signalClock is a clock that moves a second each time it is read, so
// that each recorded signal has an arrival of its own.
type signalClock struct{ t time.Time }

func (c *signalClock) now() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

func openTestSignalLog(t *testing.T, cfg SignalLogConfig, reg *prometheus.Registry) (*FileSignalLog, *signalClock) {
	t.Helper()
	clock := &signalClock{t: time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)}
	l, err := OpenSignalLog(cfg, clock.now, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return l, clock
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// TestSignalLogRecordsWhatTheEngineTakes pushes signals into an engine
// with a signal log: each stored signal is one line, stamped with its
// arrival, its values under the kinds' keys; a signal for a CDN the
// policy does not know is not stored, and not recorded.
func TestSignalLogRecordsWhatTheEngineTakes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signals.jsonl")
	reg := prometheus.NewRegistry()
	l, _ := openTestSignalLog(t, SignalLogConfig{Path: path}, reg)
	e := NewEngine(faultConfig(), nil)
	e.SetSignalLog(l)
	measured := time.Date(2026, 6, 14, 18, 59, 58, 0, time.UTC)
	e.Push(
		Signal{CDN: "akamai", Region: "default", Time: measured, Samples: 900, Source: SourcePush, Values: Values{TTFB: F(180), ErrorRate: F(0.004)}},
		Signal{CDN: "nosuch", Time: measured, Source: SourcePush, Values: Values{TTFB: F(1)}},
		Signal{CDN: "fastly", Time: measured, Source: SourcePrometheus, Values: Values{Throughput: F(120.5)}},
	)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(readLines(t, path), "\n")
	want := `{"time":"2026-06-14T19:00:01Z","measured":"2026-06-14T18:59:58Z","cdn":"akamai","region":"default","source":"push","samples":900,"values":{"ttfb_ms":180,"error_rate":0.004}}
{"time":"2026-06-14T19:00:02Z","measured":"2026-06-14T18:59:58Z","cdn":"fastly","source":"prometheus","values":{"throughput_gbps":120.5}}`
	if got != want {
		t.Errorf("signal log:\n%s\nwant:\n%s", got, want)
	}
	var rec SignalRecord
	if err := json.Unmarshal([]byte(strings.Split(got, "\n")[0]), &rec); err != nil {
		t.Fatal(err)
	}
	s := rec.Signal()
	if s.CDN != "akamai" || s.Region != "default" || !s.Time.Equal(measured) || s.Samples != 900 || *s.Values[TTFB] != 180 || *s.Values[ErrorRate] != 0.004 || s.Values[CacheHit] != nil {
		t.Errorf("read back as %+v", s)
	}
	if n := faultCounter(t, reg, "cdnsteer_signal_log_written_total"); n != 2 {
		t.Errorf("written = %v, want 2", n)
	}
}

// TestSignalLogRotates writes far more than one file may hold: the file
// is rotated to .1, .2, only Keep rotated files remain, none is past the
// bound, and what is kept is the newest signals, in order, none lost
// between the files.
func TestSignalLogRotates(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "signals.jsonl")
	reg := prometheus.NewRegistry()
	const maxBytes, keep, n = 2000, 2, 200
	l, _ := openTestSignalLog(t, SignalLogConfig{Path: path, MaxBytes: maxBytes, Keep: keep}, reg)
	for i := range n {
		l.RecordSignal(Signal{CDN: "akamai", Time: time.Unix(int64(i), 0), Source: SourceProbe, Values: Values{TTFB: F(float64(i))}})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	files := []string{path + ".2", path + ".1", path}
	var ttfbs []float64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if fi.Size() > maxBytes {
			t.Errorf("%s is %d bytes, past the bound of %d", f, fi.Size(), maxBytes)
		}
		for _, line := range readLines(t, f) {
			var rec SignalRecord
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: %q: %v", f, line, err)
			}
			ttfbs = append(ttfbs, *rec.Values.Values[TTFB])
		}
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 exists (%v): only %d rotated files are kept", path, err, keep)
	}
	if len(ttfbs) == 0 || ttfbs[len(ttfbs)-1] != n-1 {
		t.Fatalf("kept %v, want the newest signal last", ttfbs)
	}
	for i := 1; i < len(ttfbs); i++ {
		if ttfbs[i] != ttfbs[i-1]+1 {
			t.Fatalf("kept signals are not consecutive at %d: %v", i, ttfbs)
		}
	}
	rot := faultCounter(t, reg, "cdnsteer_signal_log_rotations_total")
	if rot < keep+1 {
		t.Errorf("rotations = %v, want more than %d (some files must have been dropped)", rot, keep)
	}
	if w := faultCounter(t, reg, "cdnsteer_signal_log_written_total"); w != n {
		t.Errorf("written = %v, want %d", w, n)
	}
	t.Logf("%d rotations, %d signals kept of %d", int(rot), len(ttfbs), n)

	// Reopened, the file's size so far counts: the next line rotates it
	// rather than take it past the bound; with keep = 0 it restarts.
	again := filepath.Join(dir, "again.jsonl")
	if err := os.WriteFile(again, []byte(strings.Repeat("x", maxBytes-10)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, _ = openTestSignalLog(t, SignalLogConfig{Path: again, MaxBytes: maxBytes, Keep: 0}, prometheus.NewRegistry())
	l.RecordSignal(Signal{CDN: "akamai", Source: "after", Values: Values{TTFB: F(1)}})
	l.Close()
	if lines := readLines(t, again); len(lines) != 1 || !strings.Contains(lines[0], `"source":"after"`) {
		t.Errorf("reopened near its bound with keep = 0: %d lines, want the new signal alone", len(lines))
	}
}

// TestSignalLogOnFullDisk records to /dev/full, which fails every write
// with ENOSPC, under a real engine: evaluations go on and steer as
// without the log, RecordSignal never blocks, the error counter rises,
// and the device is neither renamed nor replaced by a rotation however
// small the bound.
func TestSignalLogOnFullDisk(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("no /dev/full on this system: %v", err)
	}
	reg := prometheus.NewRegistry()
	l, err := OpenSignalLog(SignalLogConfig{Path: "/dev/full", MaxBytes: 1, Keep: 1}, nil, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("OpenSignalLog(/dev/full): %v", err)
	}
	e := NewEngine(faultConfig(), nil)
	e.SetSignalLog(l)
	faultCheckSignalEngine(t, e)
	signalRecordBounded(t, l, 3*signalLogQueue, 5*time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for faultCounter(t, reg, "cdnsteer_signal_log_errors_total") < 10 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if errs := faultCounter(t, reg, "cdnsteer_signal_log_errors_total"); errs < 10 {
		t.Errorf("cdnsteer_signal_log_errors_total = %v after many failed writes, want it to rise", errs)
	}
	if w := faultCounter(t, reg, "cdnsteer_signal_log_written_total"); w != 0 {
		t.Errorf("written = %v on /dev/full, want 0", w)
	}
	if l.Healthy() {
		t.Error("Healthy() = true while every write fails")
	}
	if rot := faultCounter(t, reg, "cdnsteer_signal_log_rotations_total"); rot != 0 {
		t.Errorf("rotations = %v: a device must never be rotated", rot)
	}
	if _, err := os.Stat("/dev/full.1"); !os.IsNotExist(err) {
		t.Errorf("/dev/full.1: %v", err)
	}
	l.Close()
}

// TestSignalLogWriterStuck holds the writer (a disk that hangs): the
// engine keeps evaluating, RecordSignal returns at once, and what does
// not fit in the queue is dropped and counted.
func TestSignalLogWriterStuck(t *testing.T) {
	reg := prometheus.NewRegistry()
	l, _ := openTestSignalLog(t, SignalLogConfig{Path: filepath.Join(t.TempDir(), "s.jsonl")}, reg)
	l.mu.Lock() // the writer takes it around each write
	e := NewEngine(faultConfig(), nil)
	e.SetSignalLog(l)
	signalRecordBounded(t, l, 2*signalLogQueue, 5*time.Second)
	faultCheckSignalEngine(t, e)
	dropped := faultCounter(t, reg, "cdnsteer_signal_log_dropped_total")
	l.mu.Unlock()
	if dropped < signalLogQueue-signalLogBatch {
		t.Errorf("dropped = %v with the writer stuck, want at least %d", dropped, signalLogQueue-signalLogBatch)
	}
	l.Close()
	l.RecordSignal(Signal{CDN: "akamai"}) // after Close: dropped, no panic
}

// TestSignalLogTornLine: a write that fails part-way leaves part of a
// line; the next successful write starts a new line, so that every line
// after it parses.
func TestSignalLogTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.jsonl")
	l, _ := openTestSignalLog(t, SignalLogConfig{Path: path}, prometheus.NewRegistry())
	l.mu.Lock()
	l.f.Write([]byte(`{"time":"2026-06-14T19:0`)) // what a full disk left
	l.torn = true
	l.mu.Unlock()
	l.RecordSignal(Signal{CDN: "akamai", Values: Values{TTFB: F(5)}})
	l.Close()
	lines := readLines(t, path)
	if len(lines) != 2 || json.Valid([]byte(lines[0])) || !json.Valid([]byte(lines[1])) {
		t.Errorf("lines %q: want the torn part alone, then a whole line", lines)
	}
}

// faultCheckSignalEngine drives e through fastly failing and recovering,
// as faultCheckEngine does, and checks the weights moved.
func faultCheckSignalEngine(t *testing.T, e *Engine) {
	t.Helper()
	t0 := time.Date(2026, 6, 14, 19, 0, 0, 0, time.UTC)
	at := faultEvaluate(e, t0, 10, t0.Add(5*time.Second))
	if w := e.Table().Get(0, 0); w == nil || w.W[1] != 0 || w.W[0] <= 0 {
		t.Fatalf("after fastly failed the live weights are %+v, want akamai > 0, fastly 0", w)
	}
	faultEvaluate(e, at, 60, at.Add(time.Hour))
	if w := e.Table().Get(0, 0); w == nil || w.W[1] <= 0 {
		t.Fatalf("after fastly recovered the live weights are %+v, want fastly back", w)
	}
}

// signalRecordBounded calls RecordSignal n times and fails the test if
// that does not return within limit.
func signalRecordBounded(t *testing.T, l *FileSignalLog, n int, limit time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		for i := range n {
			l.RecordSignal(Signal{CDN: "akamai", Source: fmt.Sprint(i), Values: Values{TTFB: F(1)}})
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("%d calls to RecordSignal did not return within %s", n, limit)
	}
}
