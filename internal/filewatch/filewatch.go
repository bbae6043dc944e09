// Package filewatch tells a program when a file it reads may have been
// replaced: written in place, renamed over from a temporary file, or
// swapped behind a symlink (as Kubernetes does with mounted ConfigMaps and
// Secrets). It watches the file's folder rather than the file, since a
// watch on the file is lost the moment the file is renamed away.
package filewatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watcher watches one file.
type Watcher struct {
	path     string
	base     string
	debounce time.Duration
	changed  func()
	onError  func(error)

	fsw    *fsnotify.Watcher
	last   os.FileInfo // the file when changed was last called (or at Start)
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Start watches path and calls changed, on the watcher's goroutine and
// never twice at once, when events around the file have settled for
// debounce: always after an event that names the file, and after events
// on other names (a temporary file, a symlink swap) only when the path
// now leads to another file, or to one of another size or time, than at
// the last call. Other names never postpone a pending call, so a busy
// neighbour (a log file) cannot hold reloads back. A watch error is
// passed to onError and counts as a change, since events may have been
// lost. Start fails when the folder cannot be watched.
func Start(path string, debounce time.Duration, changed func(), onError func(error)) (*Watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := fsw.Add(dir); err != nil {
		_ = fsw.Close()
		return nil, fmt.Errorf("watch folder %s: %w", dir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &Watcher{path: path, base: filepath.Base(path), debounce: debounce, changed: changed, onError: onError,
		fsw: fsw, cancel: cancel, done: make(chan struct{})}
	w.last, _ = os.Stat(path)
	go w.run(ctx)
	return w, nil
}

// Close stops watching and waits for a call of changed in progress. It is
// safe to call more than once.
func (w *Watcher) Close() {
	w.once.Do(func() {
		w.cancel()
		_ = w.fsw.Close()
		<-w.done
	})
}

func (w *Watcher) run(ctx context.Context) {
	defer close(w.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	armed, named := false, false
	arm := func() {
		if !armed {
			timer.Reset(w.debounce)
			armed = true
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == w.base && ev.Op&(fsnotify.Write|fsnotify.Create) != 0 {
				// The file itself is being written: wait for the writer to
				// go quiet.
				named = true
				timer.Reset(w.debounce)
				armed = true
				continue
			}
			arm()
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.onError(err)
			named = true
			arm()
		case <-timer.C:
			armed = false
			fi, err := os.Stat(w.path)
			if err != nil {
				fi = nil
			}
			if named || differs(fi, w.last) {
				named, w.last = false, fi
				w.changed()
			}
		}
	}
}

// differs tells whether the path now leads to another file than before,
// or the same one with another size or modification time. A file that is
// gone is news only if there was one.
func differs(now, before os.FileInfo) bool {
	switch {
	case now == nil:
		return before != nil
	case before == nil:
		return true
	}
	return !os.SameFile(now, before) || !now.ModTime().Equal(before.ModTime()) || now.Size() != before.Size()
}
