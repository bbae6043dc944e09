package health

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Moved away and reopened, the decision log goes on in a new file at its
// path; the moved file keeps what was written before, every line whole.
func TestJournalReopenAfterRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "decisions.jsonl")
	j, err := OpenJournal(path, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	j.Record(Decision{Time: t0, Kind: DecisionStale, Region: "before"})
	waitLines(t, path, 1)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := j.Reopen(); err != nil {
		t.Fatal(err)
	}
	j.Record(Decision{Time: t0, Kind: DecisionStale, Region: "after"})
	waitLines(t, path, 1)
	for file, want := range map[string]string{path + ".1": "before", path: "after"} {
		ds, skipped, err := ReadJournal(file)
		if err != nil || skipped != 0 || len(ds) != 1 || ds[0].Region != want {
			t.Errorf("%s: %+v skipped %d err %v, want one decision for %q", file, ds, skipped, err, want)
		}
	}
}

// waitLines waits until path holds n decisions.
func waitLines(t *testing.T, path string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds, _, _ := ReadJournal(path)
		if len(ds) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d decisions, want %d", path, len(ds), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
