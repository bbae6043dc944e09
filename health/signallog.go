package health

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SignalLog receives every signal the engine takes in, as the engine
// receives it. Like a Journal it must not block: the engine calls it
// while holding its lock.
type SignalLog interface {
	RecordSignal(Signal)
}

// SetSignalLog makes the engine hand every signal it stores to l (nil for
// none), so that a run can be replayed later against another policy.
func (e *Engine) SetSignalLog(l SignalLog) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.signalLog = l
}

// SignalRecord is one line of the signal log: a signal as the engine
// received it.
type SignalRecord struct {
	// Time is when the signal reached the engine; Measured the time it
	// carries, which is what its freshness is judged by. A replay feeds
	// signals in the order and at the moments they arrived.
	Time     time.Time `json:"time"`
	Measured time.Time `json:"measured"`
	CDN      string    `json:"cdn"`
	// Region is omitted for a signal about all regions.
	Region  string `json:"region,omitempty"`
	Source  string `json:"source,omitempty"`
	Samples int    `json:"samples,omitempty"`
	// Values are written under the kinds' keys, as readings are
	// everywhere else; Newest is left zero.
	Values Readings `json:"values"`
}

// Record returns the line for s arriving at arrived. Values that are not
// finite numbers are left out: the engine ignores them, and JSON has no
// way to write them.
func Record(s Signal, arrived time.Time) SignalRecord {
	r := SignalRecord{Time: arrived.UTC(), Measured: s.Time.UTC(), CDN: s.CDN, Region: s.Region, Source: s.Source, Samples: s.Samples}
	for k, v := range s.Values {
		if v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) {
			x := *v
			r.Values.Values[k] = &x
		}
	}
	return r
}

// Signal is the signal r recorded; a record without a measured time is
// taken as measured on arrival.
func (r *SignalRecord) Signal() Signal {
	t := r.Measured
	if t.IsZero() {
		t = r.Time
	}
	return Signal{CDN: r.CDN, Region: r.Region, Time: t, Samples: r.Samples, Values: r.Values.Values, Source: r.Source}
}

// Defaults of [server] signal_log_max_mb and signal_log_keep. README.md
// documents them; keep the two in step.
const (
	DefaultSignalLogMaxMB = 100
	DefaultSignalLogKeep  = 5
)

// SignalLogConfig says where the signal log goes and how much of it is
// kept: the file grows to MaxBytes, then becomes PATH.1 (PATH.1 becomes
// PATH.2 …) and a new file starts; Keep rotated files are kept, the
// oldest removed. The disk holds at most (Keep+1) × MaxBytes.
type SignalLogConfig struct {
	Path     string
	MaxBytes int64
	Keep     int
}

// FileSignalLog writes the signal log, one JSON object per line, from a
// goroutine of its own: like the decision log, a slow, full or read-only
// disk loses lines, counted, but never delays the engine.
type FileSignalLog struct {
	cfg   SignalLogConfig
	now   func() time.Time
	queue dropQueue[SignalRecord]
	log   *slog.Logger

	mu   sync.Mutex // guards f, size, broken and torn
	f    *os.File
	size int64
	// regular is false for a device or a pipe (/dev/null, a FIFO to a
	// collector), which is written to but never rotated: renaming it
	// would move the device, not start a new file.
	regular bool
	broken  bool
	// torn is set when a failed write may have left part of a line: the
	// next write starts on a new line, so that the part stays a line of
	// its own that readers skip rather than corrupting the next one.
	torn bool

	written, failed, dropped, rotations prometheus.Counter
}

// signalLogQueue bounds the signals waiting for the disk: a few seconds
// of a large deployment's probes, pushes and Prometheus results.
const signalLogQueue = 16384

// OpenSignalLog opens (creating if needed) the signal log cfg.Path for
// appending; its size so far counts towards cfg.MaxBytes. It fails only
// if the file cannot be opened at all; later write errors are counted
// and logged, and writing is retried. now stamps each signal's arrival
// (time.Now when nil).
func OpenSignalLog(cfg SignalLogConfig, now func() time.Time, reg prometheus.Registerer, log *slog.Logger) (*FileSignalLog, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultSignalLogMaxMB << 20
	}
	if now == nil {
		now = time.Now
	}
	f, err := os.OpenFile(cfg.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open signal log: %w", err)
	}
	var size int64
	regular := false
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size, regular = fi.Size(), true
	}
	l := &FileSignalLog{cfg: cfg, now: now, f: f, size: size, regular: regular, log: log,
		written:   prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_signal_log_written_total", Help: "Signals written to the signal log."}),
		failed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_signal_log_errors_total", Help: "Signals that could not be written (disk full, read-only, …)."}),
		dropped:   prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_signal_log_dropped_total", Help: "Signals dropped because the writer fell behind."}),
		rotations: prometheus.NewCounter(prometheus.CounterOpts{Name: "cdnsteer_signal_log_rotations_total", Help: "Times the signal log reached signal_log_max_mb and was rotated."}),
	}
	reg.MustRegister(l.written, l.failed, l.dropped, l.rotations)
	l.queue.init(signalLogQueue, l.dropped)
	go l.run()
	return l, nil
}

// RecordSignal stamps s with its arrival and queues it; when the queue is
// full it is dropped and counted rather than block the engine.
func (l *FileSignalLog) RecordSignal(s Signal) { l.queue.put(Record(s, l.now())) }

// Close writes what is queued and closes the file; signals recorded after
// it are dropped and counted, and a second Close does nothing.
func (l *FileSignalLog) Close() error {
	if !l.queue.close() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Healthy reports whether the last write succeeded.
func (l *FileSignalLog) Healthy() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.broken
}

// signalLogBatch bounds how many queued lines go to the disk in one write.
const signalLogBatch = 256

// run writes whatever has been queued since its last write in one write,
// so that a busy engine costs a system call per batch, not per signal.
func (l *FileSignalLog) run() {
	defer close(l.queue.done)
	var buf []byte
	n := 0
	flush := func() {
		if n > 0 {
			l.write(buf, n)
		}
		buf, n = buf[:0], 0
	}
	add := func(rec SignalRecord) {
		line, err := json.Marshal(rec)
		if err != nil {
			l.failed.Inc()
			return
		}
		if n > 0 && l.wouldOverflow(int64(len(buf)+len(line)+1)) {
			flush()
		}
		buf, n = append(append(buf, line...), '\n'), n+1
	}
	for rec := range l.queue.ch {
		add(rec)
	drain:
		for n < signalLogBatch {
			select {
			case r, ok := <-l.queue.ch:
				if !ok {
					break drain
				}
				add(r)
			default:
				break drain
			}
		}
		flush()
	}
}

// wouldOverflow reports whether n more bytes would take the current file
// past its bound.
func (l *FileSignalLog) wouldOverflow(n int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.regular && l.size+n > l.cfg.MaxBytes
}

// write appends n lines held in b, rotating first when they would take
// the file past its bound. A batch is never larger than the bound unless
// it is a single line: that one goes to a file of its own.
func (l *FileSignalLog) write(b []byte, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.regular && l.size > 0 && l.size+int64(len(b)) > l.cfg.MaxBytes {
		if err := l.rotate(); err != nil {
			// Writing on would break the bound the operator set: lose
			// these lines, and try again with the next ones.
			l.fail(n, err)
			return
		}
	}
	if l.torn {
		if _, err := l.f.Write([]byte{'\n'}); err != nil {
			l.fail(n, err)
			return
		}
		l.size++
		l.torn = false
	}
	w, err := l.f.Write(b)
	l.size += int64(w)
	if err != nil {
		l.torn = w > 0
		l.fail(n, err)
		return
	}
	l.written.Add(float64(n))
	if l.broken {
		l.log.Info("signal log writable again", "file", l.cfg.Path)
	}
	l.broken = false
}

// fail counts n lost lines and logs the first failure of a run of them.
func (l *FileSignalLog) fail(n int, err error) {
	l.failed.Add(float64(n))
	if !l.broken {
		l.log.Error("signal log write failed; answers are unaffected, signals are not being recorded", "file", l.cfg.Path, "err", err)
	}
	l.broken = true
}

// rotate shifts PATH.i to PATH.i+1, dropping what falls past Keep, moves
// PATH to PATH.1 and starts PATH afresh.
func (l *FileSignalLog) rotate() error {
	p := l.cfg.Path
	rotated := func(i int) string { return p + "." + strconv.Itoa(i) }
	if l.cfg.Keep > 0 {
		if err := os.Remove(rotated(l.cfg.Keep)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate signal log: %w", err)
		}
	}
	for i := l.cfg.Keep - 1; i >= 1; i-- {
		if err := os.Rename(rotated(i), rotated(i+1)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("rotate signal log: %w", err)
		}
	}
	var err error
	if l.cfg.Keep > 0 {
		err = os.Rename(p, rotated(1))
	} else {
		err = os.Remove(p)
	}
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rotate signal log: %w", err)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("rotate signal log: %w", err)
	}
	l.f.Close()
	l.f, l.size, l.torn = f, 0, false
	l.rotations.Inc()
	return nil
}
