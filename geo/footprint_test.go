package geo

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestFootprint checks that loading a GeoLite2-Country-sized database,
// and reloading it while the old copy is still referenced, stays within
// 64 MiB of resident memory and a couple of seconds. Building the
// synthetic database takes a while, so it runs only when GEO_FOOTPRINT is
// set (GEO_BENCH_DB may name a real database to use instead). The
// measurement happens in a fresh child process, so the writer's memory
// does not count.
func TestFootprint(t *testing.T) {
	if os.Getenv("GEO_FOOTPRINT") == "" {
		t.Skip("set GEO_FOOTPRINT=1 to measure load time and memory")
	}
	path := os.Getenv("GEO_BENCH_DB")
	if path == "" {
		path = filepath.Join(t.TempDir(), "synthetic.mmdb")
		if err := os.WriteFile(path, syntheticDB(t, 350_000, 150_000), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFootprintChild$", "-test.v")
	cmd.Env = append(os.Environ(), "GEO_FOOTPRINT_CHILD="+path)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child failed: %v", err)
	}
}

// TestFootprintChild is TestFootprint's measuring half.
func TestFootprintChild(t *testing.T) {
	path := os.Getenv("GEO_FOOTPRINT_CHILD")
	if path == "" {
		t.Skip("run by TestFootprint")
	}
	const limit = 64 << 20
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("file: %.1f MiB", float64(fi.Size())/(1<<20))
	t.Logf("baseline: %s", memStatus(t))

	start := time.Now()
	old, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	load := time.Since(start)
	runtime.GC()
	t.Logf("load: %v, %+v", load, old.Info())
	t.Logf("after load and GC: %s", memStatus(t))

	// A reload builds the new DB while queries still hold the old one.
	start = time.Now()
	db, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	reload := time.Since(start)
	runtime.KeepAlive(old)
	old = nil
	runtime.GC()
	t.Logf("reload: %v; after: %s", reload, memStatus(t))

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("live heap %.1f MiB (%d IPv4 + %d IPv6 networks)",
		float64(ms.HeapAlloc)/(1<<20), len(db.nets.v4), len(db.nets.v6hi))
	if hwm := memField(t, "VmHWM"); hwm > limit {
		t.Errorf("peak RSS %.1f MiB, over %d MiB", float64(hwm)/(1<<20), limit>>20)
	}
	if load > 2*time.Second || reload > 2*time.Second {
		t.Errorf("load %v / reload %v, over 2s", load, reload)
	}
	runtime.KeepAlive(db)
}

func memStatus(t *testing.T) string {
	return fmt.Sprintf("RSS %.1f MiB, peak %.1f MiB",
		float64(memField(t, "VmRSS"))/(1<<20), float64(memField(t, "VmHWM"))/(1<<20))
}

// memField reads a size in bytes from /proc/self/status.
func memField(t *testing.T, name string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("%s not in /proc/self/status", name)
	return 0
}
