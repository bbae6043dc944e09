package health

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// teeJournal records to each of its journals.
type teeJournal []Journal

func (t teeJournal) Record(d Decision) {
	for _, j := range t {
		j.Record(d)
	}
}

// deltaConfig has states that change (fastly in kr) and states that do
// not (every other), across two policies; vod's recovery is slow enough
// to span checkpoints where only the ramp moved, the score back at 100.
func deltaConfig() Config {
	cfg := testConfig()
	vod := cfg.Policies[0]
	vod.Name, vod.Baseline = "vod", [][]float64{{10, 20, 30, 40}, {25, 25, 25, 25}}
	vod.Params.RecoveryStep = 0.005
	cfg.Policies = append(cfg.Policies, vod)
	return cfg
}

// fastlyBadInKr: fastly fails in kr from from for span, then heals.
func fastlyBadInKr(from time.Time, span time.Duration) func(string, time.Time) Signal {
	return func(cdn string, at time.Time) Signal {
		if cdn == "fastly" && !at.Before(from) && at.Before(from.Add(span)) {
			s := bad(cdn, at)
			s.Region = "kr"
			return s
		}
		return good(cdn, at)
	}
}

func openTestJournal(t *testing.T, path string) *FileJournal {
	t.Helper()
	j, err := OpenJournal(path, prometheus.NewRegistry(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// snapshot is what a restore leaves of every CDN state, to compare.
func snapshot(e *Engine) string {
	var lines []string
	for k, s := range e.cdns {
		lines = append(lines, fmt.Sprintf("%s/%s/%s score=%v/%v status=%s ramp=%v changed=%s below=%v above=%v",
			k.policy, k.region, k.cdn, s.score, s.hasScore, s.status, s.ramp, s.lastChange.Format(time.RFC3339Nano), s.below, s.above))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func restoredFrom(ds []Decision, at time.Time) *Engine {
	e := NewEngine(deltaConfig(), nil)
	e.Restore(ds, at)
	return e
}

func restoredFromLog(t *testing.T, raw []byte, at time.Time) *Engine {
	t.Helper()
	rl, err := readRestoreLog(bytes.NewReader(raw), 10, at)
	if err != nil || rl.Skipped != 0 {
		t.Fatalf("readRestoreLog: %v, %d skipped", err, rl.Skipped)
	}
	e := NewEngine(deltaConfig(), nil)
	e.RestoreLog(rl, at)
	return e
}

// The decision log's checkpoints after the first list only what changed,
// with a full one every fullCheckpointInterval; restored after any of its
// lines (whole, or read a line at a time for a restart), the log leaves
// every CDN state as the engine's own full checkpoints do.
func TestDeltaCheckpointsRestoreAsFullOnes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	file := openTestJournal(t, path)
	mem := &memJournal{}
	e := NewEngine(deltaConfig(), teeJournal{mem, file})
	at := run(e, t0, 90, allGood)
	at = run(e, at, 420, fastlyBadInKr(at, 150*time.Second))
	at = run(e, at, 540, allGood) // past fullCheckpointInterval
	file.Close()

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	lines = lines[:len(lines)-1] // after the last newline
	written, _, _ := ReadJournal(path)
	if len(written) != len(mem.ds) || len(lines) != len(mem.ds) {
		t.Fatalf("%d lines, %d decisions written, %d recorded: want all", len(lines), len(written), len(mem.ds))
	}
	var fulls, deltas, smaller int
	for i, d := range written {
		if d.Kind != DecisionCheckpoint {
			continue
		}
		all := len(mem.ds[i].States)
		switch {
		case !d.Delta && len(d.States) == all:
			fulls++
		case d.Delta && len(d.States) < all:
			deltas++
			if len(d.States) < all/2 {
				smaller++
			}
		default:
			t.Fatalf("checkpoint %d: delta %v with %d of %d states", i, d.Delta, len(d.States), all)
		}
	}
	// Full at the start and 15 minutes later; one a minute for 17.5.
	if fulls != 2 || deltas != 16 || smaller < 8 {
		t.Errorf("%d full checkpoints, %d deltas (%d under half the states): want 2 full, 16 deltas, most small", fulls, deltas, smaller)
	}
	cuts := 0
	for i, d := range mem.ds {
		if d.Kind != DecisionCheckpoint && i != len(mem.ds)-1 && i%7 != 0 {
			continue
		}
		cuts++
		want := snapshot(restoredFrom(mem.ds[:i+1], at))
		if got := snapshot(restoredFrom(written[:i+1], at)); got != want {
			t.Fatalf("restored from the log's first %d lines:\n%s\nwant, from full checkpoints:\n%s", i+1, got, want)
		}
		if got := snapshot(restoredFromLog(t, bytes.Join(lines[:i+1], nil), at)); got != want {
			t.Fatalf("restored a line at a time from the log's first %d lines:\n%s\nwant, from full checkpoints:\n%s", i+1, got, want)
		}
	}
	if cuts < 17 {
		t.Errorf("%d restores compared", cuts)
	}
}

// A state change makes its CDN part of the next delta even when the
// state is back where the checkpoint before left it: the restore reads
// the change (a recovery's ramp started over) and needs the checkpoint
// after it to put the ramp back.
func TestDeltaListsAStateThatChangedAndCameBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	j := openTestJournal(t, path)
	ck := func(at time.Time) Decision {
		return Decision{Time: at, Kind: DecisionCheckpoint, States: []CDNCheckpoint{
			{Policy: "live", Region: "kr", CDN: "akamai", Score: 100, Status: Healthy, Ramp: 1, Weight: 30},
			{Policy: "live", Region: "kr", CDN: "fastly", Score: 90, Status: Recovering, Ramp: 0.5, Weight: 10},
		}}
	}
	score := func(v float64) *float64 { return &v }
	mem := []Decision{
		ck(t0),
		{Time: t0.Add(10 * time.Second), Kind: DecisionState, Policy: "live", Region: "kr", CDN: "fastly", From: "recovering", To: "degraded", Score: score(40)},
		{Time: t0.Add(20 * time.Second), Kind: DecisionState, Policy: "live", Region: "kr", CDN: "fastly", From: "degraded", To: "recovering", Score: score(90)},
		ck(t0.Add(time.Minute)),
	}
	for _, d := range mem {
		j.Record(d)
	}
	j.Close()
	written, _, _ := ReadJournal(path)
	last := written[len(written)-1]
	if !last.Delta || len(last.States) != 1 || last.States[0].CDN != "fastly" {
		t.Fatalf("second checkpoint written as %+v, want a delta of fastly alone", last)
	}
	at := t0.Add(2 * time.Minute)
	want := snapshot(restoredFrom(mem, at))
	if got := snapshot(restoredFrom(written, at)); got != want {
		t.Errorf("restored:\n%s\nwant:\n%s", got, want)
	}
}

// Moved away and reopened (logrotate and SIGUSR1), the log goes on in a
// new file whose first checkpoint lists every state: restored from that
// file alone, the engine is where the full checkpoints put it.
func TestRotatedLogRestoresFromItsFullCheckpoint(t *testing.T) {
	path := filepath.Join(t.TempDir(), "decisions.jsonl")
	file := openTestJournal(t, path)
	mem := &memJournal{}
	e := NewEngine(deltaConfig(), teeJournal{mem, file})
	at := run(e, t0, 150, allGood)
	at = run(e, at, 100, fastlyBadInKr(at, time.Hour))
	mem.mu.Lock()
	cut := len(mem.ds)
	mem.mu.Unlock()
	waitLines(t, path, cut)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := file.Reopen(); err != nil {
		t.Fatal(err)
	}
	at = run(e, at, 200, fastlyBadInKr(t0, 200*time.Second+150*time.Second))
	file.Close()

	before, _, _ := ReadJournal(path + ".1")
	after, _, _ := ReadJournal(path)
	if len(before)+len(after) != len(mem.ds) || len(before) != cut {
		t.Fatalf("%d + %d lines, want %d (%d before the rotation)", len(before), len(after), len(mem.ds), cut)
	}
	firstCheckpoint := func(ds []Decision) (Decision, int) {
		n, seen := 0, false
		var first Decision
		for _, d := range ds {
			if d.Kind != DecisionCheckpoint {
				continue
			}
			if !seen {
				first, seen = d, true
			}
			if d.Delta {
				n++
			}
		}
		return first, n
	}
	if first, deltas := firstCheckpoint(before); first.Delta || deltas == 0 {
		t.Errorf("rotated file: first checkpoint delta=%v, %d deltas; want full, then deltas", first.Delta, deltas)
	}
	first, deltas := firstCheckpoint(after)
	if first.Delta || len(first.States) != len(e.cdns) || deltas == 0 {
		t.Errorf("new file: first checkpoint delta=%v with %d states (engine: %d), %d deltas; want full, then deltas",
			first.Delta, len(first.States), len(e.cdns), deltas)
	}
	want := snapshot(restoredFrom(mem.ds[cut:], at))
	if got := snapshot(restoredFrom(after, at)); got != want {
		t.Errorf("restored from the new file:\n%s\nwant:\n%s", got, want)
	}
	raw, _ := os.ReadFile(path)
	if got := snapshot(restoredFromLog(t, raw, at)); got != want {
		t.Errorf("restored a line at a time from the new file:\n%s\nwant:\n%s", got, want)
	}
}
