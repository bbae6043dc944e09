package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The files of a rehearsal's output (`cdnsteer simulate -o DIR`) the
// report reads: sim writes them, and names them the same.
const (
	rehearsalIntervals = "intervals.csv"
	rehearsalCDNs      = "cdns.csv"
	// RehearsalDecisions is the rehearsal engine's decision log.
	RehearsalDecisions = "decisions.jsonl"
)

// The QoE a rehearsal gives: the service its viewers got, by cell.
var rehearsalQoE = []struct{ column, label string }{
	{"ttfb_ms", "segment TTFB, ms (simulated)"},
	{"error_rate", "segment error rate (simulated)"},
}

// ReadRehearsal reads the traffic of a rehearsal's output in dir, at its
// output interval, into the same form as a real event's.
func ReadRehearsal(dir string) (*Traffic, error) {
	cells, err := readCSV(filepath.Join(dir, rehearsalIntervals))
	if err != nil {
		return nil, err
	}
	totals, err := readCSV(filepath.Join(dir, rehearsalCDNs))
	if err != nil {
		return nil, err
	}
	tr := NewTraffic("rehearsal "+dir, time.Time{}, time.Time{}, 0)
	var times []time.Time
	for _, r := range cells.rows {
		t, err := cells.time(r)
		if err != nil {
			return nil, err
		}
		if len(times) == 0 || !t.Equal(times[len(times)-1]) {
			times = append(times, t)
		}
		p := Place{cells.get(r, "region"), cells.get(r, "cdn")}
		tr.Delivered[p] = append(tr.Delivered[p], Point{t, cells.num(r, "delivered_gbps")})
		tr.Viewers[p] = append(tr.Viewers[p], Point{t, cells.num(r, "viewers")})
		if c := cells.num(r, "region_commit_gbps"); c > 0 {
			tr.Commit[p] = c
		}
		for _, q := range rehearsalQoE {
			if tr.QoE[q.label] == nil {
				tr.QoE[q.label] = map[Place][]Point{}
			}
			tr.QoE[q.label][p] = append(tr.QoE[q.label][p], Point{t, cells.num(r, q.column)})
		}
	}
	for _, r := range totals.rows {
		t, err := totals.time(r)
		if err != nil {
			return nil, err
		}
		p := Place{"", totals.get(r, "cdn")}
		tr.Delivered[p] = append(tr.Delivered[p], Point{t, totals.num(r, "delivered_gbps")})
		if c := totals.num(r, "commit_gbps"); c > 0 {
			tr.Commit[p] = c
		}
	}
	if len(times) < 2 {
		return nil, fmt.Errorf("rehearsal %s: %s has fewer than two intervals", dir, rehearsalIntervals)
	}
	tr.Step = times[1].Sub(times[0])
	tr.Start, tr.End = times[0], times[len(times)-1].Add(tr.Step)
	tr.Miss(SecAnswers, "a rehearsal counts no DNS answers: the answers served come from cdnsteer's counters in Prometheus")
	return tr, nil
}

// table is a CSV file with a header.
type table struct {
	path string
	col  map[string]int
	rows [][]string
}

func readCSV(path string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rehearsal: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("rehearsal %s: %w", path, err)
	}
	t := &table{path: path, col: map[string]int{}}
	for i, h := range head {
		t.col[h] = i
	}
	for _, need := range []string{"time", "cdn", "delivered_gbps"} {
		if _, ok := t.col[need]; !ok {
			return nil, fmt.Errorf("rehearsal %s: no %q column: not a `cdnsteer simulate` output", path, need)
		}
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("rehearsal %s: %w", path, err)
		}
		t.rows = append(t.rows, row)
	}
}

func (t *table) get(row []string, name string) string {
	if i, ok := t.col[name]; ok && i < len(row) {
		return row[i]
	}
	return ""
}

// num is a column's number; 0 when empty (sim leaves unknowns empty).
func (t *table) num(row []string, name string) float64 {
	v, _ := strconv.ParseFloat(t.get(row, name), 64)
	return v
}

func (t *table) time(row []string) (time.Time, error) {
	v, err := time.Parse(time.RFC3339, t.get(row, "time"))
	if err != nil {
		return time.Time{}, fmt.Errorf("rehearsal %s: %w", t.path, err)
	}
	return v.UTC(), nil
}
