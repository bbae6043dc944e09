package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdnsteer/cdnsteer/health"
	"github.com/cdnsteer/cdnsteer/zones"
)

// declogCmd writes the decision log of -minutes of the pushed workload
// (one evaluation a virtual second, as engineCmd runs them) twice: as the
// server writes it (DIR/decisions.jsonl, through health's decision log
// writer: delta checkpoints) and with every checkpoint full, as it was
// written before deltas (DIR/decisions-full.jsonl). Either is a log to
// start a server on, to time a warm restart from an hour of it.
func declogCmd(args []string) error {
	fs := flag.NewFlagSet("declog", flag.ContinueOnError)
	config := fs.String("config", "", "policy file")
	minutes := fs.Int("minutes", 60, "virtual minutes of log")
	dir := fs.String("dir", ".", "where the two logs go")
	if err := fs.Parse(args); err != nil {
		return err
	}
	snap, err := zones.Load(*config)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	file, err := health.OpenJournal(filepath.Join(*dir, "decisions.jsonl"), reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	full, err := os.Create(filepath.Join(*dir, "decisions-full.jsonl"))
	if err != nil {
		return err
	}
	fullW := &lineWriter{w: bufio.NewWriterSize(full, 1<<20)}
	e := health.NewEngine(snap.Health(), teeJournal{file, fullW})
	start := time.Now().Truncate(time.Second).Add(-time.Duration(*minutes) * time.Minute)
	for sec := range *minutes * 60 {
		t := start.Add(time.Duration(sec) * time.Second)
		for _, r := range readings(int(t.Unix())) {
			e.Push(health.Signal{CDN: r.cdn, Region: r.region, Time: t, Samples: 1000, Source: health.SourcePush, Values: values(r)})
		}
		e.Evaluate(t)
	}
	if err := file.Close(); err != nil {
		return err
	}
	if err := fullW.w.Flush(); err != nil || fullW.err != nil {
		return fmt.Errorf("decisions-full.jsonl: %v %v", err, fullW.err)
	}
	if err := full.Close(); err != nil {
		return err
	}
	// The writer drops lines when it falls behind, which it may do here,
	// the virtual clock running much faster than a server's: said, as
	// the two logs then differ in more than their checkpoints.
	a, err := countLines(filepath.Join(*dir, "decisions.jsonl"))
	if err != nil {
		return err
	}
	b, err := countLines(filepath.Join(*dir, "decisions-full.jsonl"))
	if err != nil {
		return err
	}
	fmt.Printf("decisions.jsonl: %d lines (%d dropped by the writer); decisions-full.jsonl: %d lines\n", a, b-a, b)
	return nil
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	buf := make([]byte, 1<<20)
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte("\n"))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

type teeJournal []health.Journal

func (t teeJournal) Record(d health.Decision) {
	for _, j := range t {
		j.Record(d)
	}
}

// lineWriter writes every decision as it comes, one JSON line each.
type lineWriter struct {
	w   *bufio.Writer
	err error
}

func (l *lineWriter) Record(d health.Decision) {
	b, err := json.Marshal(d)
	if err == nil {
		_, err = l.w.Write(append(b, '\n'))
	}
	if err != nil && l.err == nil {
		l.err = err
	}
}
