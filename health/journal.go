package health

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// FileJournal appends decisions to a JSON-lines file from a goroutine of
// its own, so that a slow, full or read-only disk delays and loses log
// lines but never an evaluation or an answer.
type FileJournal struct {
	path  string
	queue dropQueue[Decision]
	log   *slog.Logger

	mu     sync.Mutex // guards f, gen and broken
	f      *os.File
	gen    uint64 // counts the reopens: which file f is
	broken bool

	// ckpt turns the engine's checkpoints into deltas (journal_delta.go);
	// the writer goroutine's own.
	ckpt checkpointDelta

	written, failed, dropped prometheus.Counter
}

// journalQueue bounds the decisions waiting for the disk.
const journalQueue = 4096

// OpenJournal opens (creating if needed) the decision log at path for
// appending. It fails only if the file cannot be opened at all; later
// write errors are counted and logged, and writing is retried.
func OpenJournal(path string, reg prometheus.Registerer, log *slog.Logger) (*FileJournal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open decision log: %w", err)
	}
	j := &FileJournal{path: path, f: f, log: log,
		written: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_decision_log_written_total", Help: "Decisions written to the decision log."}),
		failed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_decision_log_errors_total", Help: "Decisions that could not be written (disk full, read-only, …)."}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_decision_log_dropped_total", Help: "Decisions dropped because the writer fell behind."}),
	}
	reg.MustRegister(j.written, j.failed, j.dropped)
	j.queue.init(journalQueue, j.dropped)
	go j.run()
	return j, nil
}

// Record queues d for writing; when the queue is full it is dropped and
// counted rather than block the engine.
func (j *FileJournal) Record(d Decision) { j.queue.put(d) }

// Close writes what is queued and closes the file. Decisions recorded
// after it (the engine may still evaluate during a shutdown) are dropped
// and counted; a second Close does nothing.
func (j *FileJournal) Close() error {
	if !j.queue.close() {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.f.Close()
}

func (j *FileJournal) run() {
	defer close(j.queue.done)
	for d := range j.queue.ch {
		if d.Kind == DecisionCheckpoint {
			j.writeCheckpoint(d)
			continue
		}
		line, err := json.Marshal(d)
		if err != nil {
			j.failed.Inc()
			continue
		}
		j.mu.Lock()
		ok := j.writeLine(line)
		j.mu.Unlock()
		j.ckpt.wrote(d, ok)
	}
}

// writeCheckpoint writes the engine's checkpoint d as a delta or in full
// (checkpointDelta). A delta shaped for a file that has been reopened
// since is shaped again: a new file starts with a full checkpoint.
func (j *FileJournal) writeCheckpoint(d Decision) {
	for {
		j.mu.Lock()
		gen := j.gen
		j.mu.Unlock()
		out := j.ckpt.shape(d, gen)
		line, err := json.Marshal(out)
		if err != nil {
			j.failed.Inc()
			j.ckpt.full = true
			return
		}
		j.mu.Lock()
		if out.Delta && j.gen != gen {
			j.mu.Unlock()
			continue
		}
		ok := j.writeLine(line)
		j.mu.Unlock()
		if ok {
			j.ckpt.written(d, out, gen)
		} else {
			j.ckpt.full = true
		}
		return
	}
}

// writeLine appends one line (j.mu held) and says whether it was written.
func (j *FileJournal) writeLine(line []byte) bool {
	line = append(line, '\n')
	_, err := j.f.Write(line)
	if err != nil {
		j.failed.Inc()
		if !j.broken {
			j.log.Error("decision log write failed; answers are unaffected, decisions are being lost", "file", j.path, "err", err)
		}
		j.broken = true
		return false
	}
	j.written.Inc()
	if j.broken {
		j.log.Info("decision log writable again", "file", j.path)
	}
	j.broken = false
	return true
}

// Healthy reports whether the last write succeeded.
func (j *FileJournal) Healthy() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return !j.broken
}

// maxLogLine is the longest decision log line read back: a full
// checkpoint at the 200,000 steered states zones allows is about 21 MB,
// past the 16 MB this once was.
const maxLogLine = 128 << 20

// ReadJournal reads a decision log, whole, for tools that read every
// line (a warm restart reads it with ReadRestoreLog). Lines that do not
// parse (a crash mid-write leaves a partial last line) are skipped and
// counted.
func ReadJournal(path string) (ds []Decision, skipped int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read decision log: %w", err)
	}
	defer f.Close()
	return decodeJournal(f)
}

func decodeJournal(r io.Reader) ([]Decision, int, error) {
	var ds []Decision
	skipped := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d Decision
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			skipped++
			continue
		}
		ds = append(ds, d)
	}
	if err := sc.Err(); err != nil {
		return ds, skipped, fmt.Errorf("read decision log: %w", err)
	}
	return ds, skipped, nil
}
