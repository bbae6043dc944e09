package geo

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// watchTimeout bounds every wait for a watcher callback; the callbacks,
// not the clock, are what the tests wait on.
const watchTimeout = 20 * time.Second

// versionDB is a database placing one IPv4 and one IPv6 network in country.
func versionDB(tb testing.TB, country, continent string) []byte {
	return buildDB(tb, layoutCountry, []testNet{
		{cidr: "1.16.0.0/16", country: country, continent: continent},
		{cidr: "2400:1000::/32", country: country, continent: continent},
	})
}

// callbacks collects a watcher's callbacks on channels.
type callbacks struct {
	loads chan *DB
	errs  chan error
}

func newCallbacks() *callbacks {
	return &callbacks{loads: make(chan *DB, 64), errs: make(chan error, 64)}
}

// watch starts a Watcher on path with a short debounce, closed when the
// test ends.
func watch(t *testing.T, path string) (*Watcher, *callbacks) {
	t.Helper()
	cb := newCallbacks()
	w, err := NewWatcher(path, cb.onLoad, cb.onError, WithDebounce(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, cb
}

func (c *callbacks) onLoad(db *DB)     { c.loads <- db }
func (c *callbacks) onError(err error) { c.errs <- err }

// awaitRegion waits for a load after which 1.16.2.3 maps to region. When
// tolerateErrors is set, failed loads (of a file caught mid-write) are
// skipped.
func (c *callbacks) awaitRegion(t *testing.T, tbl *Table, region string, tolerateErrors bool) *DB {
	t.Helper()
	timeout := time.After(watchTimeout)
	for {
		select {
		case db := <-c.loads:
			r := tbl.Lookup(db, netip.MustParseAddr("1.16.2.3"))
			if r.Region == tbl.RegionIndex(region) {
				return db
			}
		case err := <-c.errs:
			if !tolerateErrors {
				t.Fatalf("waiting for region %q: unexpected error: %v", region, err)
			}
		case <-timeout:
			t.Fatalf("no load mapping to region %q within %v", region, watchTimeout)
		}
	}
}

func (c *callbacks) awaitError(t *testing.T) error {
	t.Helper()
	select {
	case err := <-c.errs:
		return err
	case db := <-c.loads:
		t.Fatalf("got a load (%+v), want an error", db.Info())
	case <-time.After(watchTimeout):
		t.Fatalf("no error within %v", watchTimeout)
	}
	return nil
}

// replace writes data beside path and renames it over path, as geoipupdate
// and editors do.
func replace(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherReloadsUnderLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "GeoLite2-Country.mmdb")
	if err := os.WriteFile(path, versionDB(t, "KR", "AS"), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl := mustTable(t, testRegions(), nil)
	w, cb := watch(t, path)
	cb.awaitRegion(t, tbl, "kr", false)

	// Lookups run against whatever DB is current for the whole test; every
	// one must be answered from a database.
	var lookups, unanswered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		addrs := []netip.Addr{netip.MustParseAddr("1.16.2.3"), netip.MustParseAddr("2400:1000::1")}
		for {
			select {
			case <-stop:
				return
			default:
			}
			db := w.DB()
			for _, a := range addrs {
				if r := tbl.Lookup(db, a); r.Source != SourceCountry && r.Source != SourceContinent {
					unanswered.Add(1)
				}
				lookups.Add(1)
			}
		}
	}()

	replace(t, path, versionDB(t, "JP", "AS"))
	cb.awaitRegion(t, tbl, "jp", false)

	// A plain in-place write may be read half-done; that load fails, and
	// the write's later events bring the complete file.
	if err := os.WriteFile(path, versionDB(t, "DE", "EU"), 0o644); err != nil {
		t.Fatal(err)
	}
	cb.awaitRegion(t, tbl, "eu", true)
	drain(cb.errs)

	replace(t, path, []byte("not a database"))
	if err := cb.awaitError(t); err == nil {
		t.Fatal("bad replacement reported a nil error")
	}
	if r := tbl.Lookup(w.DB(), netip.MustParseAddr("1.16.2.3")); r.Region != tbl.RegionIndex("eu") {
		t.Errorf("after a bad replacement, Lookup = %+v, want the old database's answer (eu)", r)
	}

	replace(t, path, versionDB(t, "KR", "AS"))
	cb.awaitRegion(t, tbl, "kr", false)

	close(stop)
	wg.Wait()
	if lookups.Load() == 0 {
		t.Error("the lookup goroutine never ran")
	}
	if n := unanswered.Load(); n != 0 {
		t.Errorf("%d of %d lookups were not answered from a database", n, lookups.Load())
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func drain(errs chan error) {
	for {
		select {
		case <-errs:
		default:
			return
		}
	}
}

func TestWatcherStartsWithoutFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "GeoLite2-Country.mmdb")
	tbl := mustTable(t, testRegions(), nil)
	w, cb := watch(t, path)
	if err := cb.awaitError(t); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("first load error = %v, want one wrapping fs.ErrNotExist", err)
	}
	if w.DB() != nil {
		t.Error("DB() is not nil before any database loaded")
	}
	replace(t, path, versionDB(t, "JP", "AS"))
	db := cb.awaitRegion(t, tbl, "jp", false)
	if w.DB() != db {
		t.Error("DB() is not the database handed to onLoad")
	}
}

func TestWatcherFollowsSymlinkSwap(t *testing.T) {
	// Kubernetes mounts ConfigMaps and Secrets as path -> ..data/name, and
	// updates them by swapping the ..data symlink; no event names path.
	dir := t.TempDir()
	for v, country := range map[string]string{"v1": "KR", "v2": "JP"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, v, "geo.mmdb"), versionDB(t, country, "AS"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "geo.mmdb")
	if err := os.Symlink(filepath.Join("..data", "geo.mmdb"), path); err != nil {
		t.Fatal(err)
	}
	tbl := mustTable(t, testRegions(), nil)
	_, cb := watch(t, path)
	cb.awaitRegion(t, tbl, "kr", false)

	if err := os.Symlink("v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	cb.awaitRegion(t, tbl, "jp", false)
}

func TestWatcherMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "geo.mmdb")
	w, err := NewWatcher(path, nil, nil)
	if err == nil {
		w.Close()
		t.Fatal("NewWatcher succeeded on a missing directory")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NewWatcher error = %v, want one wrapping fs.ErrNotExist", err)
	}
}
