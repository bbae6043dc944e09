package zones

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/internal/filewatch"
)

// Reloader keeps a policy file's compiled snapshot current. Every reload
// runs on the one goroutine of Run, whatever asked for it (a signal, the
// file changing), so two reloads never race. A file that fails to compile
// changes nothing: the previous snapshot keeps serving.
type Reloader struct {
	path     string
	apply    func(*Snapshot)
	log      *slog.Logger
	trigger  chan string
	last     [32]byte
	current  *Snapshot // the snapshot last applied
	failing  bool      // the last load failed: the file is not what runs
	watching chan struct{}

	total       *prometheus.CounterVec
	ok          prometheus.Gauge
	successTime prometheus.Gauge
}

// debounce lets an editor finish a burst of writes and renames before the
// file is read.
const debounce = 150 * time.Millisecond

// NewReloader returns a reloader for the file that produced current; apply
// receives each new snapshot. Its metrics go on reg.
func NewReloader(current *Snapshot, apply func(*Snapshot), log *slog.Logger, reg prometheus.Registerer) *Reloader {
	r := &Reloader{
		path: current.File, apply: apply, log: log, trigger: make(chan string, 1), last: current.Hash, current: current, watching: make(chan struct{}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdnsteer_config_reload_total",
			Help: "Policy reloads, by result (success, error).",
		}, []string{"result"}),
		ok: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnsteer_config_last_reload_successful",
			Help: "1 if the last policy load succeeded, 0 if the running policy is older than the file.",
		}),
		successTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cdnsteer_config_last_reload_success_timestamp_seconds",
			Help: "When the running policy was loaded.",
		}),
	}
	reg.MustRegister(r.total, r.ok, r.successTime)
	r.total.WithLabelValues("success")
	r.total.WithLabelValues("error")
	r.ok.Set(1)
	r.successTime.SetToCurrentTime()
	return r
}

// Trigger asks for a reload (e.g. on SIGHUP). It never blocks: a reload
// already pending covers this request too.
func (r *Reloader) Trigger(reason string) {
	select {
	case r.trigger <- reason:
	default:
	}
}

// Watching is closed once Run watches the file.
func (r *Reloader) Watching() <-chan struct{} { return r.watching }

// Run reloads on triggers and on changes to the file until ctx ends:
// written in place, renamed over, or swapped behind a symlink
// (internal/filewatch).
func (r *Reloader) Run(ctx context.Context) error {
	changed := make(chan struct{}, 1)
	w, err := filewatch.Start(filepath.Clean(r.path), debounce, func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	}, func(err error) { r.log.Warn("policy watch error", "err", err) })
	if err != nil {
		return fmt.Errorf("watch policy: %w", err)
	}
	defer w.Close()
	close(r.watching)
	for {
		select {
		case <-ctx.Done():
			return nil
		case reason := <-r.trigger:
			r.reload(reason, true)
		case <-changed:
			r.reload("file changed", false)
		}
	}
}

// reload loads the file; unless forced, an unchanged file is skipped.
func (r *Reloader) reload(reason string, force bool) {
	snap, err := Load(r.path)
	if err != nil {
		r.total.WithLabelValues("error").Inc()
		r.ok.Set(0)
		r.failing = true
		r.log.Error("policy reload failed; the previous policy keeps serving", "reason", reason, "file", r.path, "err", err)
		return
	}
	if !force && snap.Hash == r.last {
		// The file is the running policy again (a broken edit undone):
		// nothing to apply, but the running policy is no longer older
		// than the file, so the failure must stop being reported.
		if r.failing {
			r.failing = false
			r.total.WithLabelValues("success").Inc()
			r.ok.Set(1)
			r.log.Info("policy file is the running policy again", "reason", reason, "file", r.path)
		}
		return
	}
	r.failing = false
	r.last = snap.Hash
	r.total.WithLabelValues("success").Inc()
	r.ok.Set(1)
	r.successTime.SetToCurrentTime()
	snap.reuse(r.current)
	r.current = snap
	r.apply(snap)
	r.log.Info("policy reloaded", "reason", reason, "file", r.path, "sha256", snap.HashHex(), "zones", len(snap.Zones), "policies", len(snap.Policies))
}
