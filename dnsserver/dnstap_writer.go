package dnsserver

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cdnsteer/cdnsteer/zones"
)

// tapWriter empties a Tap's ring into its destination from a goroutine of
// its own. It polls the ring rather than being woken: a wake-up would put
// a channel operation (a lock) on the query path.
type tapWriter struct {
	t        *Tap
	log      *slog.Logger
	identity []byte
	version  []byte

	out *tapOutput
	// retry is when a socket that failed is tried again, backoff the wait
	// after the next failure.
	retry   time.Time
	backoff time.Duration
	// down is set while the destination cannot be written, so that the
	// failure is logged once and the recovery once.
	down bool

	reopen chan struct{}
	stop   chan struct{}
	done   chan struct{}
	// frame and msg are the encoder's buffers, reused.
	frame, msg []byte
}

// Writer pacing: the ring is polled every pollBusy while it has work,
// backing off to pollIdle; a socket is tried again after retryMin,
// doubling to retryMax.
const (
	pollBusy = time.Millisecond
	pollIdle = 20 * time.Millisecond
	retryMin = 100 * time.Millisecond
	retryMax = 10 * time.Second
	dialWait = time.Second
)

func (t *Tap) start(log *slog.Logger, version string) {
	t.w = &tapWriter{t: t, log: log, identity: []byte(t.cfg.Identity), version: []byte(version),
		reopen: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}), backoff: retryMin}
	go t.w.run()
}

// Reopen makes the writer close and open its destination again: a file
// moved away by logrotate is created anew (SIGUSR1).
func (t *Tap) Reopen() {
	select {
	case t.w.reopen <- struct{}{}:
	default:
	}
}

// Close writes what the ring holds, ends the stream (STOP, and FINISH
// from a socket reader) and stops the writer.
func (t *Tap) Close() {
	close(t.w.stop)
	<-t.w.done
}

func (w *tapWriter) run() {
	defer close(w.done)
	wait := pollIdle
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-w.stop:
			w.drain()
			w.closeOut()
			return
		case <-w.reopen:
			w.closeOut()
			w.retry = time.Time{}
		case <-timer.C:
		}
		if w.drain() > 0 {
			wait = pollBusy
		} else {
			wait = min(2*wait, pollIdle)
		}
		timer.Reset(wait)
	}
}

// drain writes (or, with no destination, drops) what the ring holds and
// returns how many entries it took.
func (w *tapWriter) drain() int {
	if w.out == nil {
		w.open()
	}
	n := 0
	for s := w.t.ring.next(); s != nil; s = w.t.ring.next() {
		n++
		if w.out == nil {
			w.t.ring.release(s)
			w.t.m.noReader.Inc()
			continue
		}
		if n == 1 {
			w.out.deadline()
		}
		kinds := []int{authQuery, authResponse}
		if s.rlen == 0 {
			kinds = kinds[:1]
		}
		var err error
		for _, k := range kinds {
			w.frame, w.msg = appendTapMessage(w.frame[:0], w.identity, w.version, s, k, w.msg)
			if err = w.out.frame(w.frame); err != nil {
				break
			}
			w.t.m.written.Inc()
		}
		w.t.ring.release(s)
		if err != nil {
			w.failed(err)
		}
	}
	if w.out != nil && n > 0 {
		if err := w.out.flush(); err != nil {
			w.failed(err)
		}
	}
	return n
}

// open opens the destination, unless a socket failed and its next try is
// not yet due.
func (w *tapWriter) open() {
	if time.Now().Before(w.retry) {
		return
	}
	var out *tapOutput
	var err error
	if w.t.cfg.Socket != "" {
		out, err = dialTap(w.t.cfg.Socket, dialWait)
	} else {
		out, err = openTapFile(w.t.cfg.File)
	}
	if err != nil {
		w.t.m.errors.Inc()
		w.retry = time.Now().Add(w.backoff)
		w.backoff = min(2*w.backoff, retryMax)
		if !w.down {
			w.log.Warn("dnstap destination unavailable: sampled queries are dropped and counted until it is back", "dest", w.dest(), "err", err)
			w.down = true
		}
		return
	}
	w.out, w.backoff = out, retryMin
	w.t.m.connected.Set(1)
	if w.down {
		w.log.Info("dnstap destination back", "dest", w.dest())
	}
	w.down = false
}

func (w *tapWriter) failed(err error) {
	w.t.m.errors.Inc()
	w.log.Warn("dnstap write failed: reconnecting; sampled queries are dropped and counted meanwhile", "dest", w.dest(), "err", err)
	w.down = true
	w.out.c.Close()
	w.out = nil
	w.t.m.connected.Set(0)
	w.retry = time.Now().Add(w.backoff)
	w.backoff = min(2*w.backoff, retryMax)
}

func (w *tapWriter) closeOut() {
	if w.out == nil {
		return
	}
	if err := w.out.close(); err != nil {
		w.log.Warn("dnstap stream not ended cleanly", "dest", w.dest(), "err", err)
	}
	w.out = nil
	w.t.m.connected.Set(0)
}

func (w *tapWriter) dest() string {
	if w.t.cfg.Socket != "" {
		return "unix:" + w.t.cfg.Socket
	}
	return w.t.cfg.File
}

// openTapFile starts a new dnstap file at path. A Frame Streams file has
// one header, so it cannot be appended to: a file already there with
// something in it is moved to path.prev first — whoever still writes it
// (the process an upgrade replaces) ends its stream there intact.
func openTapFile(path string) (*tapOutput, error) {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		if err := os.Rename(path, path+".prev"); err != nil {
			return nil, fmt.Errorf("keep the previous dnstap file: %w", err)
		}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return fileTap(f)
}

// Tapper keeps the handler's Tap in step with the policy's [dnstap].
type Tapper struct {
	h       *Handler
	m       *TapMetrics
	log     *slog.Logger
	version string

	mu  sync.Mutex
	cur *Tap
}

// NewTapper returns what starts, replaces and stops h's dnstap output;
// version is written in every message.
func NewTapper(h *Handler, m *TapMetrics, log *slog.Logger, version string) *Tapper {
	return &Tapper{h: h, m: m, log: log, version: version}
}

// Follow applies cfg (nil: no dnstap): a changed destination, sample or
// rate starts a new Tap and ends the old one's stream.
func (tp *Tapper) Follow(cfg *zones.Dnstap) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if cfg == nil && tp.cur == nil || cfg != nil && tp.cur != nil && *cfg == tp.cur.cfg {
		return
	}
	if old := tp.cur; old != nil {
		// The old stream ends first, so that a new file at the same path
		// finds it complete (and moves it to .prev).
		tp.h.SetTap(nil)
		tp.cur = nil
		old.Close()
		if cfg == nil {
			tp.log.Info("dnstap off")
		}
	}
	if cfg != nil {
		tp.cur = newTap(*cfg, tp.m)
		tp.cur.start(tp.log, tp.version)
		tp.h.SetTap(tp.cur)
		tp.log.Info("dnstap on", "socket", cfg.Socket, "file", cfg.File, "sample", cfg.Sample, "rate", cfg.Rate)
	}
}

// Reopen reopens the destination in force (SIGUSR1).
func (tp *Tapper) Reopen() {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.cur != nil {
		tp.cur.Reopen()
	}
}

// Close ends the stream in force, if any.
func (tp *Tapper) Close() { tp.Follow(nil) }
