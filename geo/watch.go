package geo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher keeps a DB loaded from a file current. It watches the file's
// directory rather than the file, because geoipupdate and editors replace
// the file by renaming a new one over it, which a watch on the old inode
// would never see; Kubernetes-style symlink swaps are caught the same way.
type Watcher struct {
	path     string
	base     string
	debounce time.Duration
	onError  func(error)
	// load reads the file as the database kind watched; publish stores a
	// loaded one and calls the caller's onLoad.
	load    func(ctx context.Context, path string) (any, os.FileInfo, error)
	publish func(any)

	fsw     *fsnotify.Watcher
	current atomic.Pointer[DB]
	asn     atomic.Pointer[ASNDB]
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once

	// lastFile is the stat of the file last read; only the event loop
	// touches it after NewWatcher returns.
	lastFile os.FileInfo
}

// WatcherOption adjusts a Watcher.
type WatcherOption func(*Watcher)

// DefaultDebounce is how long a Watcher waits after the last change before
// reloading: long enough to let a writer finish, short enough that a new
// database takes effect promptly.
const DefaultDebounce = 250 * time.Millisecond

// WithDebounce sets how long after the last change a reload starts.
func WithDebounce(d time.Duration) WatcherOption {
	return func(w *Watcher) { w.debounce = d }
}

// NewWatcher loads the database at path and reloads it whenever the file
// is written, replaced or re-linked. Each successful load is handed to
// onLoad; each failure, which leaves the previous DB in place, to onError.
// Either may be nil. Callbacks run on one goroutine, never concurrently,
// and never after Close returns.
//
// The first load happens before NewWatcher returns, so onLoad or onError
// has already been called by then; a missing or bad file is reported
// through onError, not as NewWatcher's error, so that a server can start
// before its first database arrives. NewWatcher fails only if the
// directory cannot be watched.
func NewWatcher(path string, onLoad func(*DB), onError func(error), opts ...WatcherOption) (*Watcher, error) {
	if onLoad == nil {
		onLoad = func(*DB) {}
	}
	w := &Watcher{
		load: func(ctx context.Context, path string) (any, os.FileInfo, error) {
			db, fi, err := loadDB(ctx, path)
			return db, fi, err
		},
	}
	w.publish = func(v any) {
		db := v.(*DB)
		w.current.Store(db)
		onLoad(db)
	}
	return w.start(path, onError, opts)
}

// NewASNWatcher is NewWatcher for an ASN database (GeoLite2-ASN or
// GeoIP2-ISP layout), read with ASNDB rather than DB.
func NewASNWatcher(path string, onLoad func(*ASNDB), onError func(error), opts ...WatcherOption) (*Watcher, error) {
	if onLoad == nil {
		onLoad = func(*ASNDB) {}
	}
	w := &Watcher{
		load: func(ctx context.Context, path string) (any, os.FileInfo, error) {
			a, fi, err := loadASNDB(ctx, path)
			return a, fi, err
		},
	}
	w.publish = func(v any) {
		a := v.(*ASNDB)
		w.asn.Store(a)
		onLoad(a)
	}
	return w.start(path, onError, opts)
}

func (w *Watcher) start(path string, onError func(error), opts []WatcherOption) (*Watcher, error) {
	w.path = filepath.Clean(path)
	w.debounce = DefaultDebounce
	w.onError = onError
	w.base = filepath.Base(w.path)
	for _, o := range opts {
		o(w)
	}
	if w.onError == nil {
		w.onError = func(error) {}
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch geoip database %s: %w", w.path, err)
	}
	// Watching starts before the first load so that a change racing with
	// it is not lost.
	if err := fsw.Add(filepath.Dir(w.path)); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watch geoip database %s: %w", w.path, err)
	}
	w.fsw = fsw
	w.ctx, w.cancel = context.WithCancel(context.Background())

	db, fi, err := w.load(w.ctx, w.path)
	w.deliver(loadResult{db, fi, err})

	w.wg.Add(1)
	go w.run()
	return w, nil
}

// DB returns the most recently loaded database, or nil if none has loaded
// (always nil for an ASN watcher).
func (w *Watcher) DB() *DB { return w.current.Load() }

// ASNDB returns the most recently loaded ASN database of a watcher made by
// NewASNWatcher, or nil.
func (w *Watcher) ASNDB() *ASNDB { return w.asn.Load() }

// Close stops watching and waits for the watcher's goroutines, cancelling
// a load in progress. It is safe to call more than once.
func (w *Watcher) Close() error {
	var err error
	w.once.Do(func() {
		w.cancel()
		err = w.fsw.Close()
		w.wg.Wait()
	})
	return err
}

type loadResult struct {
	db  any
	fi  os.FileInfo
	err error
}

// run is the event loop. Loads run on their own goroutine so that events
// keep draining while a large database is parsed; at most one load runs,
// and changes seen meanwhile cause one more load after it.
func (w *Watcher) run() {
	defer w.wg.Done()
	var (
		timer    = time.NewTimer(time.Hour)
		armed    bool // timer will fire for pending changes
		named    bool // an event named the file itself, so reload regardless of stat
		loading  bool
		again    bool // changes arrived during the current load
		results  = make(chan loadResult, 1)
		fsEvents = w.fsw.Events
		fsErrors = w.fsw.Errors
	)
	timer.Stop()
	defer timer.Stop()

	for {
		select {
		case <-w.ctx.Done():
			return
		case ev, ok := <-fsEvents:
			if !ok {
				return
			}
			switch w.classify(ev) {
			case eventNamed:
				// The file itself is being written: wait for the writer to
				// go quiet.
				named = true
				timer.Reset(w.debounce)
				armed = true
			case eventMaybe:
				// Other names do not push the deadline back, or a busy
				// neighbour (a log file, say) could postpone reloads forever.
				if !armed {
					timer.Reset(w.debounce)
					armed = true
				}
			}
		case err, ok := <-fsErrors:
			if !ok {
				return
			}
			w.onError(fmt.Errorf("watch geoip database %s: %w", w.path, err))
			// Events may have been lost (the kernel queue overflowed, say),
			// so reload rather than trust that nothing changed.
			named = true
			timer.Reset(w.debounce)
			armed = true
		case <-timer.C:
			armed = false
			if loading {
				again = true
				continue
			}
			if named || w.changed() {
				named, again, loading = false, false, true
				w.startLoad(results)
			}
		case res := <-results:
			loading = false
			if w.ctx.Err() != nil {
				return
			}
			w.deliver(res)
			// With the timer armed, its firing will decide instead.
			if again && !armed {
				again = false
				if named || w.changed() {
					named, loading = false, true
					w.startLoad(results)
				}
			}
		}
	}
}

type eventKind uint8

const (
	eventIgnore eventKind = iota
	eventMaybe            // may have changed what the path resolves to
	eventNamed            // wrote or created the file under its own name
)

// classify says what ev means for the watched file.
func (w *Watcher) classify(ev fsnotify.Event) eventKind {
	if filepath.Base(ev.Name) != w.base {
		// Another name in the directory: a temp file being written, or a
		// symlink the path resolves through being swapped. Only a stat of
		// the path can tell which, once things settle.
		return eventMaybe
	}
	switch {
	case ev.Has(fsnotify.Create), ev.Has(fsnotify.Write):
		return eventNamed
	case ev.Has(fsnotify.Chmod):
		return eventMaybe
	}
	// Removed or renamed away: keep serving the old data until a new file
	// appears, which will be its own event.
	return eventIgnore
}

// changed reports whether the file now differs from the one last read,
// whether or not that one loaded; retrying an unchanged bad file would
// only repeat its error.
func (w *Watcher) changed() bool {
	fi, err := os.Stat(w.path)
	if err != nil {
		return false
	}
	last := w.lastFile
	return last == nil || !os.SameFile(fi, last) || !fi.ModTime().Equal(last.ModTime()) || fi.Size() != last.Size()
}

func (w *Watcher) startLoad(results chan<- loadResult) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		db, fi, err := w.load(w.ctx, w.path)
		results <- loadResult{db, fi, err}
	}()
}

// deliver publishes a load's outcome; a failed load keeps the old DB.
func (w *Watcher) deliver(res loadResult) {
	if res.fi != nil {
		w.lastFile = res.fi
	}
	if res.err != nil {
		w.onError(res.err)
		return
	}
	w.publish(res.db)
}
