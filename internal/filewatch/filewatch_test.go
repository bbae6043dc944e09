package filewatch

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// start watches path and returns a channel fed by every call of changed.
func start(t *testing.T, path string) <-chan struct{} {
	t.Helper()
	calls := make(chan struct{}, 16)
	w, err := Start(path, 20*time.Millisecond, func() { calls <- struct{}{} }, func(err error) { t.Errorf("watch error: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return calls
}

func await(t *testing.T, calls <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-calls:
	case <-time.After(5 * time.Second):
		t.Fatalf("no call within 5 s after %s", what)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWriteRenameAndSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"v1", "v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, v, "f"), v)
	}
	if err := os.Symlink("v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "linked")
	if err := os.Symlink(filepath.Join("..data", "f"), link); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	write(t, plain, "a")

	calls := start(t, plain)
	write(t, plain, "b")
	await(t, calls, "a write in place")
	write(t, plain+".tmp", "c")
	if err := os.Rename(plain+".tmp", plain); err != nil {
		t.Fatal(err)
	}
	await(t, calls, "a rename over the file")

	swaps := start(t, link)
	if err := os.Symlink("v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	await(t, swaps, "a symlink swap")
}

// TestNeighboursDoNotCall: writes to other files of the folder call
// nothing while the watched file stays as it was, and do not hold back a
// call for a change of the file itself.
func TestNeighboursDoNotCall(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	write(t, path, "a")
	calls := start(t, path)
	log := filepath.Join(dir, "busy.log")
	stop := time.Now().Add(300 * time.Millisecond)
	for i := 0; time.Now().Before(stop); i++ {
		write(t, log, string(rune('a'+i%26)))
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-calls:
		t.Fatal("a neighbour's writes called changed for an unchanged file")
	case <-time.After(100 * time.Millisecond):
	}
	// The file removed, then back as another file (a hard link to a
	// neighbour): both are changes.
	other := filepath.Join(dir, "other")
	write(t, other, "longer")
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	await(t, calls, "the file being removed")
	if err := os.Link(other, path); err != nil {
		t.Fatal(err)
	}
	await(t, calls, "the file coming back as another file")
}
